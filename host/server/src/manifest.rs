//! Spin application manifests (`spin_manifest_version = 2`): the subset `pa up`
//! serves. Keys outside that subset are reported by name, never ignored.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A parse or validation failure, naming the offending key or value.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not valid TOML or a wrong value type.
    #[error("invalid manifest: {0}")]
    Syntax(#[from] toml::de::Error),
    /// Keys this host does not support.
    #[error("unsupported manifest keys: {}", .0.join(", "))]
    Unsupported(Vec<String>),
    /// A semantic problem.
    #[error("invalid manifest: {0}")]
    Invalid(String),
}

type Extra = BTreeMap<String, toml::Value>;

#[derive(Deserialize)]
struct RawManifest {
    spin_manifest_version: toml::Value,
    #[serde(default)]
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: RawTriggers,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize, Default)]
struct RawApplication {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "version")]
    _version: Option<String>,
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default, rename = "authors")]
    _authors: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default, rename = "secret")]
    _secret: bool,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize, Default)]
struct RawTriggers {
    #[serde(default)]
    http: Vec<RawHttpTrigger>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawHttpTrigger {
    route: toml::Value,
    component: String,
    #[serde(default, rename = "id")]
    _id: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

#[derive(Deserialize)]
struct RawComponent {
    source: toml::Value,
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    /// Build settings are for `spin build`; serving does not need them.
    #[serde(default, rename = "build")]
    _build: Option<toml::Value>,
    #[serde(flatten)]
    extra: Extra,
}

/// A validated app.
#[derive(Debug)]
pub struct App {
    /// `application.name`.
    pub name: String,
    /// HTTP routes, in manifest order.
    pub routes: Vec<Route>,
    /// Components by id.
    pub components: BTreeMap<String, ComponentSpec>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone)]
pub struct Route {
    /// `/exact` or `/prefix/...` (wildcard).
    pub pattern: String,
    /// Component id.
    pub component: String,
}

/// One `[component.X]`, with variables resolved.
#[derive(Debug)]
pub struct ComponentSpec {
    /// The `.wasm` file, relative paths resolved against the manifest's folder.
    pub source: PathBuf,
    /// Outbound HTTP grants.
    pub allowed_outbound_hosts: Vec<String>,
    /// Key-value store labels.
    pub key_value_stores: Vec<String>,
    /// Variable values.
    pub variables: HashMap<String, String>,
}

impl Route {
    /// The fixed part a request path must equal (exact) or start with (wildcard),
    /// and whether it is a wildcard.
    pub fn prefix(&self) -> (&str, bool) {
        match self.pattern.strip_suffix("/...") {
            Some(prefix) => (prefix, true),
            None => (&self.pattern, false),
        }
    }

    /// The path info after the route's fixed prefix when `path` matches.
    pub fn matches<'a>(&self, path: &'a str) -> Option<&'a str> {
        let (prefix, wildcard) = self.prefix();
        if !wildcard {
            return (path == prefix || (prefix.is_empty() && path == "/")).then_some("");
        }
        let rest = path.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then_some(rest)
    }
}

fn report(unsupported: &mut Vec<String>, at: &str, extra: &Extra) {
    unsupported.extend(
        extra
            .keys()
            .map(|k| if at.is_empty() { k.clone() } else { format!("{at}.{k}") }),
    );
}

/// Parses manifest text; `dir` resolves relative sources; `env` supplies
/// `SPIN_VARIABLE_<NAME>` overrides like Spin's environment provider.
pub fn parse(text: &str, dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<App, ManifestError> {
    let raw: RawManifest = toml::from_str(text)?;
    if raw.spin_manifest_version.as_integer() != Some(2) {
        return Err(ManifestError::Invalid(format!(
            "spin_manifest_version must be 2, got {}",
            raw.spin_manifest_version
        )));
    }
    let mut unsupported = Vec::new();
    report(&mut unsupported, "", &raw.extra);
    report(&mut unsupported, "application", &raw.application.extra);
    report(&mut unsupported, "trigger", &raw.trigger.extra);
    for (name, v) in &raw.variables {
        report(&mut unsupported, &format!("variables.{name}"), &v.extra);
    }
    for (i, t) in raw.trigger.http.iter().enumerate() {
        report(&mut unsupported, &format!("trigger.http[{i}]"), &t.extra);
    }
    for (id, c) in &raw.component {
        report(&mut unsupported, &format!("component.{id}"), &c.extra);
    }
    if !unsupported.is_empty() {
        return Err(ManifestError::Unsupported(unsupported));
    }

    let mut values = HashMap::new();
    for (name, var) in &raw.variables {
        let value = env(&format!("SPIN_VARIABLE_{}", name.to_uppercase())).or_else(|| var.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None if var.required => {
                return Err(ManifestError::Invalid(format!(
                    "variable `{name}` is required: set SPIN_VARIABLE_{}",
                    name.to_uppercase()
                )));
            }
            None => {}
        }
    }

    let mut components = BTreeMap::new();
    for (id, c) in raw.component {
        let source = c.source.as_str().ok_or_else(|| {
            ManifestError::Unsupported(vec![format!(
                "component.{id}.source (only a local file path is supported)"
            )])
        })?;
        let mut variables = HashMap::new();
        for (name, template) in c.variables {
            variables.insert(name, expand(&template, &values)?);
        }
        components.insert(
            id,
            ComponentSpec {
                source: dir.join(source),
                allowed_outbound_hosts: c.allowed_outbound_hosts,
                key_value_stores: c.key_value_stores,
                variables,
            },
        );
    }

    let mut routes = Vec::new();
    for t in raw.trigger.http {
        let pattern = t.route.as_str().ok_or_else(|| {
            ManifestError::Unsupported(vec![format!(
                "trigger.http route `{}` (only path routes are supported)",
                t.route
            )])
        })?;
        if !pattern.starts_with('/') {
            return Err(ManifestError::Invalid(format!("route `{pattern}` must start with `/`")));
        }
        if !components.contains_key(&t.component) {
            return Err(ManifestError::Invalid(format!(
                "route `{pattern}` names unknown component `{}`",
                t.component
            )));
        }
        let pattern = if pattern == "/..." {
            "/...".to_string()
        } else {
            pattern.trim_end_matches('/').to_string()
        };
        routes.push(Route {
            pattern,
            component: t.component,
        });
    }
    Ok(App {
        name: raw.application.name,
        routes,
        components,
    })
}

/// Replaces `{{ name }}` with app variable values.
fn expand(template: &str, values: &HashMap<String, String>) -> Result<String, ManifestError> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| ManifestError::Invalid(format!("unclosed `{{{{` in `{template}`")))?;
        let name = rest[start + 2..start + end].trim();
        let value = values
            .get(name)
            .ok_or_else(|| ManifestError::Invalid(format!("`{template}` refers to undefined variable `{name}`")))?;
        out.push_str(value);
        rest = &rest[start + end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2
[application]
name = "demo"
version = "1.0.0"
[variables]
name = { default = "world" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/hello"
component = "hello"
[[trigger.http]]
route = "/kv/..."
component = "hello"
[component.hello]
source = "hello.wasm"
key_value_stores = ["default"]
[component.hello.variables]
greeting = "Hello, {{ name }}!"
secret = "{{token}}"
[component.hello.build]
command = "cargo build"
"#;

    fn env(name: &str) -> Option<String> {
        (name == "SPIN_VARIABLE_TOKEN").then(|| "t0k".to_string())
    }

    #[test]
    fn parses_routes_components_and_variables() {
        let app = parse(MANIFEST, Path::new("/app"), &env).unwrap();
        assert_eq!(app.name, "demo");
        let hello = &app.components["hello"];
        assert_eq!(hello.source, Path::new("/app/hello.wasm"));
        assert_eq!(hello.variables["greeting"], "Hello, world!");
        assert_eq!(hello.variables["secret"], "t0k");
        assert_eq!(app.routes[0].matches("/hello"), Some(""));
        assert_eq!(app.routes[0].matches("/hello/x"), None);
        assert_eq!(app.routes[1].matches("/kv"), Some(""));
        assert_eq!(app.routes[1].matches("/kv/a/b"), Some("/a/b"));
        assert_eq!(app.routes[1].matches("/kvx"), None);
    }

    #[test]
    fn required_variables_must_have_values() {
        let err = parse(MANIFEST, Path::new("/app"), &|_| None).unwrap_err();
        assert!(err.to_string().contains("SPIN_VARIABLE_TOKEN"), "{err}");
    }

    #[test]
    fn unsupported_keys_are_named() {
        let text = MANIFEST.replace("source = \"hello.wasm\"", "source = \"hello.wasm\"\nfiles = [\"a\"]")
            + "\n[application.trigger.redis]\naddress = \"x\"\n";
        let err = parse(&text, Path::new("/app"), &env).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("component.hello.files"), "{message}");
        assert!(message.contains("application.trigger"), "{message}");
    }
}
