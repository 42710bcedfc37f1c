//! `pa workflow …`: definitions and runs of a tenant from the command line —
//! save, plan, start, list, show, cancel, retry, approve, reject.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::remote::ServerArgs;

#[derive(Args)]
pub struct WorkflowArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Print the API's JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: WorkflowCommand,
}

#[derive(Subcommand)]
enum WorkflowCommand {
    /// Save a definition (JSON or YAML file) as the next version of NAME.
    Put { name: String, file: PathBuf },
    /// Turn a plain-language requirement into a plan; `--start` runs it.
    Plan {
        requirement: String,
        #[arg(long)]
        start: bool,
        /// More run input, a JSON object (e.g. samples).
        #[arg(long)]
        input: Option<String>,
    },
    /// Start a run of NAME.
    Start {
        name: String,
        /// The run's input, JSON.
        #[arg(long)]
        input: Option<String>,
    },
    /// Recent runs, newest first.
    Runs {
        /// Only runs of this workflow.
        #[arg(long)]
        workflow: Option<String>,
    },
    /// A run with every step: state, timings, input, output, error.
    Show { run: String },
    /// Cancel a run.
    Cancel { run: String },
    /// Start a new run of a failed or cancelled run's workflow with its input.
    Retry { run: String },
    /// Approve a run's approval step.
    Approve {
        run: String,
        step: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a run's approval step (the run fails).
    Reject {
        run: String,
        step: String,
        #[arg(long)]
        comment: Option<String>,
    },
}

fn json_arg(what: &str, text: Option<String>) -> anyhow::Result<Value> {
    match text {
        None => Ok(json!({})),
        Some(text) => serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("--{what} is not JSON: {e}")),
    }
}

pub async fn run(args: WorkflowArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let server = &args.server;
    let url = |path: &str| server.tenant_url(path);
    let request = match args.command {
        WorkflowCommand::Put { name, file } => {
            let text = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            client.put(url(&format!("/workflows/{name}"))).body(text)
        }
        WorkflowCommand::Plan {
            requirement,
            start,
            input,
        } => client.post(url("/orchestrator/plan")).json(&json!({
            "requirement": requirement,
            "start": start,
            "input": json_arg("input", input)?,
        })),
        WorkflowCommand::Start { name, input } => client
            .post(url(&format!("/workflows/{name}/runs")))
            .json(&json!({ "input": json_arg("input", input)? })),
        WorkflowCommand::Runs { workflow } => {
            let mut request = client.get(url("/runs"));
            if let Some(workflow) = workflow {
                request = request.query(&[("workflow", workflow)]);
            }
            request
        }
        WorkflowCommand::Show { run } => client.get(url(&format!("/runs/{run}"))),
        WorkflowCommand::Cancel { run } => client.post(url(&format!("/runs/{run}/cancel"))),
        WorkflowCommand::Retry { run } => client.post(url(&format!("/runs/{run}/retry"))),
        WorkflowCommand::Approve { run, step, comment } => client
            .post(url(&format!("/runs/{run}/steps/{step}/approve")))
            .json(&json!({ "comment": comment })),
        WorkflowCommand::Reject { run, step, comment } => client
            .post(url(&format!("/runs/{run}/steps/{step}/reject")))
            .json(&json!({ "comment": comment })),
    };
    let body = server.send(request).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
    } else {
        print!("{}", describe(&body));
    }
    Ok(())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A run, a list of runs, a plan or a saved definition, for people.
fn describe(body: &Value) -> String {
    let run_line = |run: &Value| {
        format!(
            "{}  {} v{}  {}  {}\n",
            text(&run["id"]),
            text(&run["workflow"]),
            text(&run["version"]),
            text(&run["state"]),
            text(&run["created_at"])
        )
    };
    if let Some(runs) = body["runs"].as_array() {
        return runs.iter().map(run_line).collect();
    }
    if body.get("planner").is_some() {
        let mut out = format!(
            "template {} (planned by {})\n{}\nparameters {}\n",
            text(&body["template"]),
            text(&body["planner"]),
            text(&body["reasoning"]),
            body["parameters"]
        );
        if body["run"].is_object() {
            out.push_str(&run_line(&body["run"]));
        }
        return out;
    }
    if body.get("state").is_some() {
        let mut out = run_line(body);
        if let Some(error) = body["error"].as_str() {
            out.push_str(&format!("error: {error}\n"));
        }
        for step in body["steps"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "  {:<24} {:<12} attempt {}  {}\n",
                text(&step["id"]),
                text(&step["state"]),
                text(&step["attempt"]),
                step["error"].as_str().unwrap_or("")
            ));
        }
        return out;
    }
    format!("{body}\n")
}
