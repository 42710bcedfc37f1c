//! Tells which world a component implements, from its exports, and which of
//! its imports the host cannot satisfy.

use crate::LoadError;
use wasmparser::{Encoding, Parser, Payload};

/// The worlds the host can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    /// `wasi:http/proxy` 0.2: exports `wasi:http/incoming-handler@0.2.x`.
    HttpP2,
    /// `wasi:http/service` 0.3: exports `wasi:http/handler@0.3.x` (async ABI).
    HttpP3,
    /// `powerautomation:plugin/tool-server`: an MCP tool server (exports
    /// `powerautomation:plugin/tools@0.1.x`).
    ToolServer,
    /// Any other component with exports: its plain WIT functions are served
    /// as MCP tools.
    Exports,
    /// `powerautomation:plugin/workflow-step`: a workflow step (exports
    /// `powerautomation:plugin/step@0.1.x`).
    WorkflowStep,
}

impl World {
    /// The name stored beside the plugin version.
    pub fn as_str(self) -> &'static str {
        match self {
            World::HttpP2 => "wasi:http/proxy@0.2",
            World::HttpP3 => "wasi:http/service@0.3",
            World::ToolServer => "powerautomation:plugin/tool-server@0.1",
            World::Exports => "plain WIT exports (MCP tools)",
            World::WorkflowStep => "powerautomation:plugin/workflow-step@0.1",
        }
    }
}

/// Top-level import and export names of a component, read without compiling it.
pub(crate) struct Interface {
    pub(crate) imports: Vec<String>,
    pub(crate) exports: Vec<String>,
}

/// Parses the component header and its top-level import/export sections.
pub(crate) fn read_interface(bytes: &[u8]) -> Result<Interface, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError::Invalid(
            "the body is empty; expected a WebAssembly component".into(),
        ));
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(LoadError::Invalid(
            "not a WebAssembly binary (missing the \\0asm magic number)".into(),
        ));
    }
    let mut depth = 0usize;
    let mut iface = Interface {
        imports: vec![],
        exports: vec![],
    };
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| LoadError::Invalid(format!("malformed component: {e}")))?;
        match payload {
            Payload::Version { encoding, .. } => {
                depth += 1;
                if depth == 1 && encoding == Encoding::Module {
                    return Err(LoadError::Invalid(
                        "this is a core WebAssembly module, not a component; build for \
                         wasm32-wasip2 or wrap it with `wasm-tools component new`"
                            .into(),
                    ));
                }
            }
            Payload::End(_) => depth -= 1,
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    let import = import.map_err(|e| LoadError::Invalid(format!("malformed import: {e}")))?;
                    iface.imports.push(import.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    let export = export.map_err(|e| LoadError::Invalid(format!("malformed export: {e}")))?;
                    iface.exports.push(export.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(iface)
}

/// Detects the world from the component's exports.
pub(crate) fn detect(iface: &Interface) -> Result<World, LoadError> {
    let has = |prefix: &str| iface.exports.iter().any(|e| e.starts_with(prefix));
    if has("powerautomation:plugin/tools@0.1.") {
        Ok(World::ToolServer)
    } else if has("powerautomation:plugin/step@0.1.") {
        Ok(World::WorkflowStep)
    } else if has("wasi:http/handler@0.3.") {
        Ok(World::HttpP3)
    } else if has("wasi:http/incoming-handler@0.2.") {
        Ok(World::HttpP2)
    } else if !iface.exports.is_empty() {
        Ok(World::Exports)
    } else {
        Err(LoadError::UnknownWorld(iface.exports.clone()))
    }
}

/// Interfaces the host provides, as `namespace:package/interface@compat`,
/// where `compat` is the semver-compatible part of the version.
const PROVIDED: &[&str] = &[
    "wasi:cli/environment@0.2",
    "wasi:cli/exit@0.2",
    "wasi:cli/stdin@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/stderr@0.2",
    "wasi:cli/terminal-input@0.2",
    "wasi:cli/terminal-output@0.2",
    "wasi:cli/terminal-stdin@0.2",
    "wasi:cli/terminal-stdout@0.2",
    "wasi:cli/terminal-stderr@0.2",
    "wasi:clocks/monotonic-clock@0.2",
    "wasi:clocks/wall-clock@0.2",
    "wasi:filesystem/types@0.2",
    "wasi:filesystem/preopens@0.2",
    "wasi:io/error@0.2",
    "wasi:io/poll@0.2",
    "wasi:io/streams@0.2",
    "wasi:random/random@0.2",
    "wasi:random/insecure@0.2",
    "wasi:random/insecure-seed@0.2",
    "wasi:sockets/network@0.2",
    "wasi:sockets/instance-network@0.2",
    "wasi:sockets/tcp@0.2",
    "wasi:sockets/tcp-create-socket@0.2",
    "wasi:sockets/udp@0.2",
    "wasi:sockets/udp-create-socket@0.2",
    "wasi:sockets/ip-name-lookup@0.2",
    "wasi:http/types@0.2",
    "wasi:http/outgoing-handler@0.2",
    "fermyon:spin/key-value@2",
    "fermyon:spin/variables@2",
    "fermyon:spin/llm@2",
    "fermyon:spin/redis@2",
    "fermyon:spin/mqtt@2",
    "fermyon:spin/rdbms-types@2",
    "fermyon:spin/postgres@2",
    "fermyon:spin/mysql@2",
    "fermyon:spin/sqlite@2",
    "spin:postgres/postgres@3",
    "spin:postgres/postgres@4",
    "spin:sqlite/sqlite@3",
    "wasi:keyvalue/store@0.2",
    "wasi:keyvalue/atomics@0.2",
    "wasi:keyvalue/batch@0.2",
    "wasi:config/store@0.2",
];

/// Interfaces provided only to tool servers and workflow steps.
const PROVIDED_TOOLS: &[&str] = &[
    "powerautomation:plugin/types@0.1",
    "powerautomation:plugin/host@0.1",
    "powerautomation:plugin/key-value@0.1",
    "powerautomation:plugin/config@0.1",
    "powerautomation:plugin/model@0.1",
    "powerautomation:plugin/ocr@0.1",
    "powerautomation:plugin/sites@0.1",
];

/// Interfaces provided only to `wasi:http` 0.3 components (the p3 engine).
const PROVIDED_P3: &[&str] = &[
    "wasi:cli/environment@0.3",
    "wasi:cli/exit@0.3",
    "wasi:cli/stdin@0.3",
    "wasi:cli/stdout@0.3",
    "wasi:cli/stderr@0.3",
    "wasi:cli/terminal-input@0.3",
    "wasi:cli/terminal-output@0.3",
    "wasi:cli/terminal-stdin@0.3",
    "wasi:cli/terminal-stdout@0.3",
    "wasi:cli/terminal-stderr@0.3",
    "wasi:clocks/monotonic-clock@0.3",
    "wasi:clocks/system-clock@0.3",
    "wasi:clocks/types@0.3",
    "wasi:filesystem/types@0.3",
    "wasi:filesystem/preopens@0.3",
    "wasi:random/random@0.3",
    "wasi:random/insecure@0.3",
    "wasi:random/insecure-seed@0.3",
    "wasi:sockets/types@0.3",
    "wasi:sockets/ip-name-lookup@0.3",
    "wasi:http/types@0.3",
    "wasi:http/client@0.3",
    "spin:key-value/key-value@3",
    "spin:variables/variables@3",
];

/// The semver-compatible key of an import name: `a:b/c@0.2.6` → `a:b/c@0.2`,
/// `a:b/c@2.0.0` → `a:b/c@2`, `a:b/c@0.3.0-rc-2025-09-16` → `a:b/c@0.3`.
fn compat_key(name: &str) -> String {
    let Some((base, version)) = name.split_once('@') else {
        return name.to_string();
    };
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next().unwrap_or("");
    let minor = parts.next().unwrap_or("");
    if major == "0" {
        format!("{base}@0.{minor}")
    } else {
        format!("{base}@{major}")
    }
}

/// The imports of `iface` that the host does not provide for `world`.
pub(crate) fn missing_imports(iface: &Interface, world: World) -> Vec<String> {
    iface
        .imports
        .iter()
        .filter(|name| {
            let key = compat_key(name);
            let only_for = match world {
                World::HttpP2 | World::Exports => &[][..],
                World::HttpP3 => PROVIDED_P3,
                World::ToolServer | World::WorkflowStep => PROVIDED_TOOLS,
            };
            !(PROVIDED.contains(&key.as_str()) || only_for.contains(&key.as_str()))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compat_keys_follow_semver() {
        assert_eq!(compat_key("wasi:http/types@0.2.6"), "wasi:http/types@0.2");
        assert_eq!(compat_key("fermyon:spin/key-value@2.0.0"), "fermyon:spin/key-value@2");
        assert_eq!(compat_key("wasi:http/types@0.3.0-rc-2025-09-16"), "wasi:http/types@0.3");
        assert_eq!(compat_key("plain"), "plain");
    }

    #[test]
    fn rejects_non_components() {
        assert!(matches!(read_interface(b""), Err(LoadError::Invalid(m)) if m.contains("empty")));
        assert!(matches!(read_interface(b"hello"), Err(LoadError::Invalid(m)) if m.contains("magic")));
        let core = b"\0asm\x01\0\0\0";
        assert!(matches!(read_interface(core), Err(LoadError::Invalid(m)) if m.contains("core WebAssembly module")));
    }
}
