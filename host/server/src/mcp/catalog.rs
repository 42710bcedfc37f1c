//! What the enabled tool servers of a tenant offer: each plugin's tools,
//! prompts, resources and templates, listed once when it is enabled, and the
//! tenant-wide view with namespaced names (`{prefix}_{name}`).

use std::sync::Arc;

use pa_runtime::tool_types::{PromptInfo, ResourceInfo, ResourceTemplate, Tool};
use pa_runtime::{TaskSupport, ToolServer};
use serde_json::{Value, json};

use super::convert::with_optional;

use crate::deploy::{Live, TenantPlugins};

/// Longest tool or prompt name listed (many clients refuse longer ones).
const MAX_NAME: usize = 64;

/// A tool or prompt: its name at the endpoint, its name in the component,
/// and its MCP description.
pub struct Entry {
    pub name: String,
    pub local: String,
    pub json: Value,
    /// Whether a tool's calls may become tasks (`None` for prompts).
    pub task_support: Option<TaskSupport>,
}

/// A resource template and the URIs it matches.
pub struct Template {
    pub uri_template: String,
    pub json: Value,
}

/// What one tool-server plugin offers, with the server itself.
pub struct Catalog {
    pub server: ToolServer,
    pub tools: Vec<Entry>,
    pub prompts: Vec<Entry>,
    pub resources: Vec<Value>,
    pub templates: Vec<Template>,
}

fn listed_name(prefix: &str, local: &str) -> String {
    if prefix.is_empty() {
        local.to_string()
    } else {
        format!("{prefix}_{local}")
    }
}

fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let valid = (1..=MAX_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{kind} name `{name}` is not valid: use 1-{MAX_NAME} letters, digits, `_`, `-` or `.` (prefix included)"
        ))
    }
}

fn object_schema(tool: &str, field: &str, text: &str) -> Result<Value, String> {
    let schema: Value =
        serde_json::from_str(text).map_err(|e| format!("tool `{tool}` has an {field} that is not JSON: {e}"))?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(format!("tool `{tool}` has an {field} whose `type` is not \"object\""));
    }
    Ok(schema)
}

fn tool_json(name: &str, tool: &Tool, task_support: TaskSupport) -> Result<Value, String> {
    let mut object = with_optional(
        json!({ "name": name, "inputSchema": object_schema(&tool.name, "input schema", &tool.input_schema)? }),
        &[("title", &tool.title), ("description", &tool.description)],
    );
    if let Some(output) = &tool.output_schema {
        object["outputSchema"] = object_schema(&tool.name, "output schema", output)?;
    }
    if let Some(annotations) = &tool.annotations {
        object["annotations"] = serde_json::from_str(annotations)
            .map_err(|e| format!("tool `{}` has annotations that are not JSON: {e}", tool.name))?;
    }
    if let Some(support) = super::tasks::support_name(task_support) {
        object["execution"] = json!({ "taskSupport": support });
    }
    Ok(object)
}

fn prompt_json(name: &str, prompt: &PromptInfo) -> Value {
    let arguments: Vec<Value> = prompt
        .arguments
        .iter()
        .map(|a| {
            with_optional(
                json!({ "name": a.name, "required": a.required }),
                &[("description", &a.description)],
            )
        })
        .collect();
    with_optional(
        json!({ "name": name, "arguments": arguments }),
        &[("title", &prompt.title), ("description", &prompt.description)],
    )
}

fn resource_json(r: &ResourceInfo) -> Value {
    let mut object = with_optional(
        json!({ "uri": r.uri, "name": r.name }),
        &[
            ("title", &r.title),
            ("description", &r.description),
            ("mimeType", &r.mime_type),
        ],
    );
    if let Some(size) = r.size {
        object["size"] = size.into();
    }
    object
}

fn template_json(t: &ResourceTemplate) -> Value {
    with_optional(
        json!({ "uriTemplate": t.uri_template, "name": t.name }),
        &[
            ("title", &t.title),
            ("description", &t.description),
            ("mimeType", &t.mime_type),
        ],
    )
}

impl Catalog {
    /// Lists what `server` offers, naming its tools and prompts with `prefix`.
    /// Fails with a message naming the problem (a trap, a bad schema, a
    /// duplicate or invalid name).
    pub async fn load(server: ToolServer, prefix: &str) -> Result<Catalog, String> {
        let fail = |what: &str, e: pa_runtime::InvokeError| format!("listing its {what} failed: {e}");
        let listed = server.list_tools().await.map_err(|e| fail("tools", e))?;
        let task_support = server.task_tools().await.map_err(|e| fail("task support", e))?;
        if let Some((unknown, _)) = task_support.iter().find(|(t, _)| !listed.iter().any(|l| l.name == *t)) {
            return Err(format!(
                "its task support names `{unknown}`, which is not one of its tools"
            ));
        }
        let mut tools = Vec::new();
        for tool in listed {
            let name = listed_name(prefix, &tool.name);
            check_name("tool", &name)?;
            if tools.iter().any(|t: &Entry| t.name == name) {
                return Err(format!("tool `{name}` is listed twice"));
            }
            let support = task_support
                .iter()
                .find(|(t, _)| *t == tool.name)
                .map_or(TaskSupport::Forbidden, |(_, s)| *s);
            tools.push(Entry {
                json: tool_json(&name, &tool, support)?,
                name,
                local: tool.name,
                task_support: Some(support),
            });
        }
        let mut prompts = Vec::new();
        for prompt in server.list_prompts().await.map_err(|e| fail("prompts", e))? {
            let name = listed_name(prefix, &prompt.name);
            check_name("prompt", &name)?;
            if prompts.iter().any(|p: &Entry| p.name == name) {
                return Err(format!("prompt `{name}` is listed twice"));
            }
            prompts.push(Entry {
                json: prompt_json(&name, &prompt),
                name,
                local: prompt.name,
                task_support: None,
            });
        }
        let resources = server.list_resources().await.map_err(|e| fail("resources", e))?;
        let templates = server
            .list_resource_templates()
            .await
            .map_err(|e| fail("resource templates", e))?;
        Ok(Catalog {
            server,
            tools,
            prompts,
            resources: resources.iter().map(resource_json).collect(),
            templates: templates
                .iter()
                .map(|t| Template {
                    uri_template: t.uri_template.clone(),
                    json: template_json(t),
                })
                .collect(),
        })
    }

    /// Whether the component offers a tool by this (local) name.
    pub fn has_tool(&self, local: &str) -> bool {
        self.tools.iter().any(|t| t.local == local)
    }

    /// The tool or prompt names this catalog shares with `other`.
    pub fn clashes(&self, other: &Catalog) -> Vec<String> {
        let names = |c: &Catalog| {
            c.tools
                .iter()
                .map(|t| format!("tool `{}`", t.name))
                .chain(c.prompts.iter().map(|p| format!("prompt `{}`", p.name)))
                .collect::<Vec<_>>()
        };
        let theirs = names(other);
        names(self).into_iter().filter(|n| theirs.contains(n)).collect()
    }

    fn serves_uri(&self, uri: &str) -> bool {
        self.resources.iter().any(|r| r["uri"] == uri)
    }

    fn template_matches(&self, uri: &str) -> bool {
        self.templates.iter().any(|t| template_matches(&t.uri_template, uri))
    }
}

/// Whether `uri` is an expansion of `template` (RFC 6570 simple `{var}`
/// expressions, each matching a non-empty run without `/`).
pub fn template_matches(template: &str, uri: &str) -> bool {
    fn go(template: &str, uri: &str) -> bool {
        match template.find('{') {
            None => template == uri,
            Some(open) => {
                let (literal, rest) = template.split_at(open);
                let Some(uri) = uri.strip_prefix(literal) else {
                    return false;
                };
                let Some(close) = rest.find('}') else {
                    return false;
                };
                let after = &rest[close + 1..];
                (1..=uri.len())
                    .take_while(|&n| !uri[..n].contains('/'))
                    .any(|n| uri.is_char_boundary(n) && go(after, &uri[n..]))
            }
        }
    }
    go(template, uri)
}

/// One tool of a tenant's catalog and the deployment serving it.
pub struct ToolRoute<'a> {
    pub plugin: &'a str,
    pub live: &'a Arc<Live>,
    pub entry: &'a Entry,
}

/// The tool servers a tenant has enabled, in a stable order.
#[derive(Clone)]
pub struct TenantCatalog {
    plugins: Arc<TenantPlugins>,
}

impl TenantCatalog {
    /// The tool servers among a tenant's `enabled` plugins, in plugin name order.
    pub fn new(enabled: Arc<TenantPlugins>) -> TenantCatalog {
        TenantCatalog { plugins: enabled }
    }

    fn catalogs(&self) -> impl Iterator<Item = (&String, &Catalog)> {
        self.lives().map(|(name, _, catalog)| (name, catalog))
    }

    fn lives(&self) -> impl Iterator<Item = (&String, &Arc<Live>, &Catalog)> {
        self.plugins
            .iter()
            .filter_map(|(name, live)| live.catalog.as_deref().map(|c| (name, live, c)))
    }

    /// Every tool, as listed.
    pub fn tools(&self) -> Vec<Value> {
        self.catalogs()
            .flat_map(|(_, c)| c.tools.iter().map(|t| t.json.clone()))
            .collect()
    }

    /// Every prompt, as listed.
    pub fn prompts(&self) -> Vec<Value> {
        self.catalogs()
            .flat_map(|(_, c)| c.prompts.iter().map(|p| p.json.clone()))
            .collect()
    }

    /// Every resource.
    pub fn resources(&self) -> Vec<Value> {
        self.catalogs().flat_map(|(_, c)| c.resources.clone()).collect()
    }

    /// Every resource template.
    pub fn templates(&self) -> Vec<Value> {
        self.catalogs()
            .flat_map(|(_, c)| c.templates.iter().map(|t| t.json.clone()))
            .collect()
    }

    /// Where tool `name` is served: its plugin, the plugin's live deployment
    /// and the tool's entry.
    pub fn tool(&self, name: &str) -> Option<ToolRoute<'_>> {
        self.tool_entry(name)
            .map(|(plugin, live, entry)| ToolRoute { plugin, live, entry })
    }

    /// The input schema of tool `name`, as listed.
    pub fn input_schema(&self, name: &str) -> Option<&Value> {
        self.tool_entry(name).map(|(_, _, t)| &t.json["inputSchema"])
    }

    fn tool_entry(&self, name: &str) -> Option<(&String, &Arc<Live>, &Entry)> {
        self.lives()
            .find_map(|(plugin, live, c)| c.tools.iter().find(|t| t.name == name).map(|t| (plugin, live, t)))
    }

    /// The plugin serving prompt `name`, with the prompt's local name.
    pub fn prompt(&self, name: &str) -> Option<(&ToolServer, &str)> {
        self.catalogs().find_map(|(_, c)| {
            c.prompts
                .iter()
                .find(|p| p.name == name)
                .map(|p| (&c.server, p.local.as_str()))
        })
    }

    /// The plugin serving resource `uri`: one that lists it, else one whose
    /// template matches it.
    pub fn resource(&self, uri: &str) -> Option<&ToolServer> {
        self.catalogs()
            .find(|(_, c)| c.serves_uri(uri))
            .or_else(|| self.catalogs().find(|(_, c)| c.template_matches(uri)))
            .map(|(_, c)| &c.server)
    }

    /// The plugin offering resource template `uri_template`.
    pub fn template(&self, uri_template: &str) -> Option<&ToolServer> {
        self.catalogs()
            .find(|(_, c)| c.templates.iter().any(|t| t.uri_template == uri_template))
            .map(|(_, c)| &c.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_simple_expansions() {
        assert!(template_matches(
            "test://template/{id}/data",
            "test://template/123/data"
        ));
        assert!(!template_matches("test://template/{id}/data", "test://template//data"));
        assert!(!template_matches(
            "test://template/{id}/data",
            "test://template/1/2/data"
        ));
        assert!(!template_matches("test://template/{id}/data", "test://other/1/data"));
        assert!(template_matches("file:///{dir}/{name}", "file:///a/b.txt"));
    }

    #[test]
    fn names_are_prefixed_and_checked() {
        assert_eq!(listed_name("weather", "forecast"), "weather_forecast");
        assert_eq!(listed_name("", "forecast"), "forecast");
        assert!(check_name("tool", "weather_forecast").is_ok());
        assert!(check_name("tool", "bad name").is_err());
        assert!(check_name("tool", &"x".repeat(65)).is_err());
    }
}
