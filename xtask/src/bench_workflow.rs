//! `cargo xtask bench workflow`: steps per second through the durable engine
//! of `pa serve`, for chains of trivial workflow-step components, on SQLite
//! and PostgreSQL with 1, 2 and 4 workers. Several runs go at once so more
//! workers have work; every step is a real component call whose state
//! changes are written to the store before they take effect.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::bench::{Server, spawn};
use crate::{Result, build_guests, build_host, guests_dir, pa_binary, root};

const TOKEN: &str = "bench-admin-token";
/// Steps per run.
const CHAIN: usize = 100;
/// Runs at once.
const RUNS: usize = 8;
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
    let data = root().join(format!("target/bench/workflow-{workers}"));
    let _ = std::fs::remove_dir_all(&data);
    let mut cmd = Command::new(pa_binary());
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--workflow-workers", &workers.to_string()])
        .env("PA_ADMIN_TOKEN", TOKEN)
        .env("PA_LOG", "warn");
    if let Some(url) = database {
        cmd.args(["--database-url", url]);
    }
    let server = spawn(&mut cmd)?;
    let wasm = std::fs::read(guests_dir().join("test_step.wasm")).map_err(|e| e.to_string())?;
    let plugins = "/api/v1/tenants/default/plugins/steps";
    call(&server, "PUT", &format!("{plugins}/versions/1.0.0"), wasm)?;
    call(
        &server,
        "POST",
        &format!("{plugins}/enable"),
        json_body(json!({"version": "1.0.0"})),
    )?;
    let steps: Vec<Value> = (0..CHAIN)
        .map(|i| {
            let mut step = json!({"id": format!("s{i}"), "component": {"plugin": "steps", "input": {"n": i}}});
            if i > 0 {
                step["needs"] = json!([format!("s{}", i - 1)]);
            }
            step
        })
        .collect();
    call(
        &server,
        "PUT",
        "/api/v1/tenants/default/workflows/chain",
        json_body(json!({ "steps": steps })),
    )?;
    let started = Instant::now();
    for _ in 0..RUNS {
        call(
            &server,
            "POST",
            "/api/v1/tenants/default/workflows/chain/runs",
            json_body(json!({})),
        )?;
    }
    let deadline = started + Duration::from_secs(600);
    loop {
        let list = call(
            &server,
            "GET",
            "/api/v1/tenants/default/runs?workflow=chain",
            Vec::new(),
        )?;
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

fn json_body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// One API call with curl; the JSON answer, or why it failed.
fn call(server: &Server, method: &str, path: &str, body: Vec<u8>) -> Result<Value> {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail-with-body", "-X", method, "-H"])
        .arg(format!("Authorization: Bearer {TOKEN}"))
        .arg(format!("{}{path}", server.url));
    let body_file = root().join("target/bench/workflow-body");
    if !body.is_empty() {
        std::fs::write(&body_file, &body).map_err(|e| e.to_string())?;
        cmd.arg("--data-binary").arg(format!("@{}", body_file.display()));
    }
    let out = cmd.output().map_err(|e| format!("curl: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{method} {path}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}
