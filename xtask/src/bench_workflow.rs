//! `cargo xtask bench workflow`: steps per second through the durable engine
//! of `pa serve`, for chains of trivial workflow-step components, on SQLite
//! and PostgreSQL with 1, 2 and 4 workers. Several runs go at once so more
//! workers have work; every step is a real component call whose state
//! changes are written to the store before they take effect.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bench::{Server, deploy, pa_server};
use crate::{Result, build_guests, build_host, guests_dir};

/// Steps per run.
const CHAIN: usize = 100;
/// Runs at once.
const RUNS: usize = 32;
/// The engine's goal on SQLite on the reference machine (issue #5).
const GOAL_SQLITE: f64 = 2000.0;

pub fn start() -> Result {
    build_guests()?;
    build_host()?;
    let postgres =
        std::env::var("PA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut rows = Vec::new();
    for backend in ["sqlite", "postgres"] {
        for workers in [1, 2, 4] {
            let database =
                (backend == "postgres").then(|| format!("{postgres}?schema=bench_wf_{}_{workers}", std::process::id()));
            let rate = measure(database.as_deref(), workers)?;
            eprintln!("  {backend:<8} {workers} worker(s): {rate:>8.0} steps/s");
            rows.push((backend, workers, rate));
        }
    }
    println!("\n| store | workers | steps/s | vs 1 worker |\n|---|---|---|---|");
    for (backend, workers, rate) in &rows {
        let one = rows
            .iter()
            .find(|(b, w, _)| b == backend && *w == 1)
            .map_or(1.0, |r| r.2);
        println!("| {backend} | {workers} | {rate:.0} | {:.2}× |", rate / one);
    }
    let best_sqlite = rows.iter().filter(|r| r.0 == "sqlite").map(|r| r.2).fold(0.0, f64::max);
    println!(
        "\n{RUNS} runs × {CHAIN} chained component steps at once; best SQLite {best_sqlite:.0} steps/s \
         = {:.2}× the goal of {GOAL_SQLITE:.0}",
        best_sqlite / GOAL_SQLITE
    );
    Ok(())
}

/// Steps per second of `RUNS` chains on a fresh `pa serve` with `workers`.
fn measure(database: Option<&str>, workers: usize) -> Result<f64> {
    let workers_flag = workers.to_string();
    let mut flags = vec!["--workflow-workers", &workers_flag];
    if let Some(url) = database {
        flags.extend(["--database-url", url]);
    }
    let (server, token) = pa_server(&format!("workflow-{workers}"), &flags)?;
    deploy(&server, &token, "steps", &guests_dir().join("test_step.wasm"))?;
    let api = Api { server, token };
    let steps: Vec<Value> = (0..CHAIN)
        .map(|i| {
            let mut step = json!({"id": format!("s{i}"), "component": {"plugin": "steps", "input": {"n": i}}});
            if i > 0 {
                step["needs"] = json!([format!("s{}", i - 1)]);
            }
            step
        })
        .collect();
    api.call(
        "PUT",
        "/api/v1/tenants/default/workflows/chain",
        json!({ "steps": steps }),
    )?;
    let started = Instant::now();
    for _ in 0..RUNS {
        api.call("POST", "/api/v1/tenants/default/workflows/chain/runs", json!({}))?;
    }
    let deadline = started + Duration::from_secs(600);
    loop {
        let list = api.call("GET", "/api/v1/tenants/default/runs?workflow=chain", Value::Null)?;
        let runs = list["runs"].as_array().cloned().unwrap_or_default();
        if let Some(failed) = runs
            .iter()
            .find(|r| r["state"] != "running" && r["state"] != "succeeded")
        {
            return Err(format!("a benchmark run did not succeed: {failed}"));
        }
        if runs.len() == RUNS && runs.iter().all(|r| r["state"] == "succeeded") {
            break;
        }
        if Instant::now() > deadline {
            return Err("the benchmark runs did not finish in 10 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((RUNS * CHAIN) as f64 / started.elapsed().as_secs_f64())
}

/// The API of one server, as its admin.
struct Api {
    server: Server,
    token: String,
}

impl Api {
    /// One call with curl (`body` sent as JSON unless null); the JSON answer, or why it failed.
    fn call(&self, method: &str, path: &str, body: Value) -> Result<Value> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail-with-body", "-X", method, "-H"])
            .arg(format!("Authorization: Bearer {}", self.token))
            .arg(format!("{}{path}", self.server.url))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !body.is_null() {
            cmd.args(["--data-binary", "@-"]);
        }
        let mut child = cmd.spawn().map_err(|e| format!("curl: {e}"))?;
        if !body.is_null() {
            let mut stdin = child.stdin.take().expect("piped");
            stdin
                .write_all(body.to_string().as_bytes())
                .map_err(|e| e.to_string())?;
        }
        let out = child.wait_with_output().map_err(|e| format!("curl: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "{method} {path}: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}
