//! `pa plugin …`: the plugin API from the command line.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::remote::ServerArgs;

#[derive(Args)]
pub struct PluginArgs {
    #[command(flatten)]
    server: ServerArgs,
    #[command(subcommand)]
    command: PluginCommand,
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Upload a component as a new version.
    Push {
        /// The `.wasm` component.
        file: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long)]
        version: String,
    },
    /// List plugins, their versions and the enabled one.
    List,
    /// Enable a version (swapping out the enabled one).
    Enable {
        name: String,
        #[arg(long)]
        version: String,
        /// Outbound host grant (repeatable), e.g. `https://api.example.com`.
        #[arg(long = "allow-outbound")]
        allow_outbound: Vec<String>,
        /// Key-value store grant (repeatable).
        #[arg(long = "kv-store")]
        kv_stores: Vec<String>,
        /// Variable `name=value` (repeatable).
        #[arg(long = "var", value_parser = parse_var)]
        vars: Vec<(String, String)>,
        /// Grant chat-model inference with the tenant's model.
        #[arg(long)]
        model: bool,
        /// Grant text recognition (OCR).
        #[arg(long)]
        ocr: bool,
        /// Site the plugin may publish (repeatable).
        #[arg(long = "site")]
        sites: Vec<String>,
        /// `public` or `api-key`.
        #[arg(long, default_value = "public")]
        access: String,
        #[arg(long)]
        timeout_ms: Option<u64>,
        #[arg(long)]
        memory_mib: Option<u64>,
        #[arg(long)]
        max_concurrency: Option<u32>,
        /// For an MCP tool server: the prefix of its tool and prompt names
        /// (the plugin name by default; `""` for the component's own names).
        #[arg(long)]
        tool_prefix: Option<String>,
    },
    /// Stop serving a plugin.
    Disable { name: String },
    /// List the platform's first-party components a tenant may enable.
    FirstParty,
    /// Enable a first-party component as the plugin of its name, with its
    /// default grants unless outbound hosts are given.
    EnableFirstParty {
        name: String,
        /// Outbound host grant (repeatable); replaces the default grants.
        #[arg(long = "allow-outbound")]
        allow_outbound: Vec<String>,
        /// The prefix of its tool names (its name by default; `""` for none).
        #[arg(long)]
        tool_prefix: Option<String>,
    },
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("expected name=value, got `{s}`"))
}

pub async fn run(args: PluginArgs) -> anyhow::Result<()> {
    let base = args.server.tenant_url("/plugins");
    let client = reqwest::Client::new();
    let request = match args.command {
        PluginCommand::Push { file, name, version } => {
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            client
                .put(format!("{base}/{name}/versions/{version}"))
                .header("content-type", "application/wasm")
                .body(bytes)
        }
        PluginCommand::List => client.get(&base),
        PluginCommand::Enable {
            name,
            version,
            allow_outbound,
            kv_stores,
            vars,
            model,
            ocr,
            sites,
            access,
            timeout_ms,
            memory_mib,
            max_concurrency,
            tool_prefix,
        } => {
            let mut limits = serde_json::Map::new();
            for (key, value) in [
                ("timeout_ms", timeout_ms),
                ("memory_mib", memory_mib),
                ("max_concurrency", max_concurrency.map(u64::from)),
            ] {
                if let Some(v) = value {
                    limits.insert(key.to_string(), json!(v));
                }
            }
            let mut body = json!({
                "version": version,
                "access": access,
                "limits": limits,
                "grants": {
                    "allowed_outbound_hosts": allow_outbound,
                    "key_value_stores": kv_stores,
                    "variables": vars.into_iter().map(|(k, v)| (k, Value::String(v))).collect::<serde_json::Map<String, Value>>(),
                    "model": model,
                    "ocr": ocr,
                    "sites": sites,
                },
            });
            if let Some(prefix) = tool_prefix {
                body["tool_prefix"] = json!(prefix);
            }
            client.post(format!("{base}/{name}/enable")).json(&body)
        }
        PluginCommand::Disable { name } => client.post(format!("{base}/{name}/disable")),
        PluginCommand::FirstParty => client.get(format!(
            "{}/api/v1/first-party",
            args.server.server.trim_end_matches('/')
        )),
        PluginCommand::EnableFirstParty {
            name,
            allow_outbound,
            tool_prefix,
        } => {
            let mut body = json!({});
            if !allow_outbound.is_empty() {
                body["grants"] = json!({ "allowed_outbound_hosts": allow_outbound });
            }
            if let Some(prefix) = tool_prefix {
                body["tool_prefix"] = json!(prefix);
            }
            client
                .post(args.server.tenant_url(&format!("/first-party/{name}/enable")))
                .json(&body)
        }
    };
    let body = args.server.send(request).await?;
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(())
}
