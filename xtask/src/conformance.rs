//! The official MCP conformance suite against a tenant's public endpoint:
//! `@modelcontextprotocol/conformance` 0.1.16 (`--suite all`) and
//! 0.2.0-alpha.12 (`--requirements 2026-07-28`), each installed from npm with
//! the Node 22 it needs, served the `conformance` fixture component; then the
//! official TypeScript and Python SDK clients against an API-key endpoint.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bench::spawn;
use crate::{Result, guests_dir, pa_binary, root, run};

const TOKEN: &str = "conformance-admin-token";
const TENANT: &str = "conformance";

/// One suite version and how it is run.
struct Suite {
    package: &'static str,
    dir: &'static str,
    args: &'static [&'static str],
}

const SUITES: [Suite; 2] = [
    Suite {
        package: "@modelcontextprotocol/conformance@0.1.16",
        dir: "v0.1.16",
        args: &["--suite", "all"],
    },
    Suite {
        package: "@modelcontextprotocol/conformance@0.2.0-alpha.12",
        dir: "v0.2.0-alpha.12",
        args: &["--requirements", "2026-07-28"],
    },
];

/// Installs the suites (once; kept under `target/`), serves the fixture and
/// runs both; fails if either reports a failing check, scored or not (the
/// suites score only part of the extensions' scenarios).
pub fn start() -> Result {
    let base = root().join("target/mcp-conformance");
    for suite in &SUITES {
        install(&base.join(suite.dir), &[suite.package])?;
    }
    let sdk_ts = base.join("sdk-ts");
    install(&sdk_ts, &[TS_SDK])?;
    let sdk_py = base.join("sdk-py");
    install_python(&sdk_py)?;
    let data = base.join("pa-data");
    let _ = std::fs::remove_dir_all(&data);
    let server = spawn(
        Command::new(pa_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("PA_ADMIN_TOKEN", TOKEN)
            .env("PA_LOG", "warn"),
    )?;
    // The suite expects a localhost URL (it probes DNS-rebinding protection).
    let url = server.url.replace("127.0.0.1", "localhost");
    setup(&url)?;
    let endpoint = format!("{url}/t/{TENANT}/mcp");
    for suite in &SUITES {
        let dir = base.join(suite.dir);
        let out = base.join(format!("results-{}", suite.dir));
        let _ = std::fs::remove_dir_all(&out);
        run(Command::new(node(&dir))
            .arg(dir.join("node_modules/@modelcontextprotocol/conformance/dist/index.js"))
            .args(["server", "--url", &endpoint])
            .args(suite.args)
            .arg("-o")
            .arg(&out))
        .and_then(|()| no_failed_checks(&out))
        .map_err(|e| {
            format!(
                "MCP conformance {} failed (details in {}): {e}",
                suite.package,
                out.display()
            )
        })?;
    }
    sdk_clients(&url, &sdk_ts, &sdk_py)
}

/// Fails naming every check the suite's results under `dir` (a
/// `checks.json` per scenario) report as failed.
fn no_failed_checks(dir: &Path) -> Result {
    let mut failed = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == "checks.json") {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let checks: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                for check in checks.as_array().into_iter().flatten() {
                    if check["status"] == "FAILURE" {
                        failed.push(format!("{} ({})", check["id"], path.display()));
                    }
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("{} failed checks: {}", failed.len(), failed.join(", ")))
    }
}

const TS_SDK: &str = "@modelcontextprotocol/sdk@1.32.2";
const PY_SDK: &str = "mcp==2.3.0";

/// The SDK clients connect with a key (the endpoint's default access), list
/// the tools and call one.
fn sdk_clients(url: &str, sdk_ts: &Path, sdk_py: &Path) -> Result {
    let api = format!("{url}/api/v1/tenants");
    curl(&["-X", "POST", &api, "-d", r#"{"id":"sdk"}"#])?;
    push(url, "sdk", "faults", "tool_faults.wasm")?;
    curl(&[
        "-X",
        "POST",
        &format!("{api}/sdk/plugins/faults/enable"),
        "-d",
        r#"{"version":"1.0.0"}"#,
    ])?;
    let clients = root().join("tests/mcp-clients");
    // Node resolves the SDK from the script's folder: run it from the install.
    let script = sdk_ts.join("sdk-client.mjs");
    std::fs::copy(clients.join("sdk-client.mjs"), &script).map_err(|e| e.to_string())?;
    let endpoint = format!("{url}/t/sdk/mcp");
    run(Command::new("node")
        .arg(&script)
        .env("MCP_URL", &endpoint)
        .env("MCP_TOKEN", TOKEN))?;
    run(Command::new(sdk_py.join("bin/python"))
        .arg(clients.join("sdk_client.py"))
        .env("MCP_URL", &endpoint)
        .env("MCP_TOKEN", TOKEN))
}

fn install_python(dir: &Path) -> Result {
    let python = dir.join("bin/python");
    let marker = dir.join(".installed");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == PY_SDK) {
        return Ok(());
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(dir))?;
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", PY_SDK]))?;
    std::fs::write(marker, PY_SDK).map_err(|e| e.to_string())
}

fn push(url: &str, tenant: &str, name: &str, file: &str) -> Result {
    run(Command::new(pa_binary())
        .env("PA_TOKEN", TOKEN)
        .env("PA_SERVER", url)
        .stdout(Stdio::null())
        .args(["plugin", "push"])
        .arg(guests_dir().join(file))
        .args(["--name", name, "--version", "1.0.0", "--tenant", tenant]))
}

fn node(dir: &Path) -> PathBuf {
    dir.join("node_modules/node/bin/node")
}

/// Installs npm `packages` (with Node 22) into `dir`, once.
fn install(dir: &Path, packages: &[&str]) -> Result {
    let marker = dir.join(".installed");
    let wanted = packages.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) && node(dir).exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(dir.join("package.json"), "{\"private\":true}\n").map_err(|e| e.to_string())?;
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .arg("node@22")
        .args(packages))?;
    std::fs::write(marker, wanted).map_err(|e| e.to_string())
}

/// A tenant with a public MCP endpoint serving the fixture under its own
/// tool names (no prefix), as the suite calls them.
fn setup(url: &str) -> Result {
    let api = format!("{url}/api/v1/tenants");
    curl(&["-X", "POST", &api, "-d", &format!("{{\"id\":\"{TENANT}\"}}")])?;
    push(url, TENANT, "fixture", "conformance.wasm")?;
    run(Command::new(pa_binary())
        .env("PA_TOKEN", TOKEN)
        .env("PA_SERVER", url)
        .stdout(Stdio::null())
        .args(["plugin", "enable", "fixture", "--version", "1.0.0", "--tool-prefix", ""])
        .args(["--tenant", TENANT]))?;
    curl(&[
        "-X",
        "PUT",
        &format!("{api}/{TENANT}/mcp"),
        "-d",
        r#"{"access":"public"}"#,
    ])
}

fn curl(args: &[&str]) -> Result {
    run(Command::new("curl")
        .args(["-sS", "--fail-with-body", "-o", "/dev/null", "-H"])
        .arg(format!("Authorization: Bearer {TOKEN}"))
        .args(args))
}
