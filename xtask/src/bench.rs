//! `cargo xtask bench http` (and `mcp`; `workflow` in [`crate::bench_workflow`]): the same hello components served by `pa`, by
//! `wasmtime serve` 48.0.8 (default and tuned pooling flags) and a native axum
//! hello, each loaded with `wrk` on loopback in one run; prints req/s, p50, p99,
//! server CPU per request and the ratios.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{Result, build_guests, build_host, cargo, guests_dir, pa_binary, root, run};

const WASMTIME_VERSION: &str = "48.0.8";
const CONNECTIONS: &str = "32";

/// The servers `bench http` measures, by the name its report gives them.
const NATIVE: &str = "native axum hello";
const PA_P2: &str = "pa, wasi:http 0.2 (all limits on)";
const PA_P3: &str = "pa, wasi:http 0.3 (all limits on)";
const WASMTIME_DEFAULT: &str = "wasmtime serve, 0.2, defaults";
const WASMTIME_POOLING: &str = "wasmtime serve, 0.2, tuned pooling";
const WASMTIME_P3: &str = "wasmtime serve, 0.3";
const WASMTIME_P3_HEADERS: &str = "wasmtime serve, 0.3, given pa's guest headers";

/// The headers `pa` adds to a request for the 0.3 hello before its guest
/// sees it (Spin's routing headers and the request id), sent by wrk to
/// `wasmtime serve` in one extra run: what Spin semantics cost the guest,
/// apart from the host.
const PA_GUEST_HEADERS: [&str; 8] = [
    "spin-full-url: http://127.0.0.1:8080/t/default/fn/hello3/",
    "spin-path-info: /",
    "spin-matched-route: /t/default/fn/hello3/...",
    "spin-raw-component-route: /t/default/fn/hello3/...",
    "spin-component-route: /t/default/fn/hello3",
    "spin-base-path: /t/default/fn/hello3",
    "spin-client-addr: 127.0.0.1:40000",
    "x-request-id: 5f1c6e0a-3b8e-4f57-9a51-0c2d7e4b9a61",
];

pub fn start(args: &[String]) -> Result {
    match args.first().map(String::as_str) {
        Some("http") | None => http(),
        Some("mcp") => mcp(),
        Some("workflow") => crate::bench_workflow::start(),
        Some(other) => Err(format!("unknown benchmark `{other}`; available: http, mcp, workflow")),
    }
}

/// One measured server.
struct Measurement {
    name: String,
    requests_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_request: f64,
}

/// A server process under test, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> Result {
    build_guests()?;
    build_host()?;
    run(cargo().args(["build", "--release", "-p", "native-hello"]))?;
    let wrk = ensure_wrk()?;
    let wasmtime = ensure_wasmtime()?;
    let seconds: u64 = std::env::var("PA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let p2 = guests_dir().join("hello_p2.wasm");
    let p3 = guests_dir().join("hello_p3.wasm");

    let native = spawn(Command::new(root().join("target/release/native-hello")).arg("127.0.0.1:0"))?;
    let (pa, token) = pa_server("pa", &[])?;
    deploy(&pa, &token, "hello", &p2)?;
    deploy(&pa, &token, "hello3", &p3)?;
    let pooling = [
        "-O",
        "pooling-allocator=y",
        "-O",
        "pooling-memory-keep-resident=134217728",
        "-O",
        "pooling-table-keep-resident=1048576",
        "-O",
        "pooling-pagemap-scan=auto",
    ];
    let wasmtime_default = wasmtime_serve(&wasmtime, &[], &p2)?;
    let wasmtime_pooling = wasmtime_serve(&wasmtime, &pooling, &p2)?;
    let wasmtime_p3 = wasmtime_serve(&wasmtime, &["-S", "p3", "-W", "component-model-async"], &p3)?;
    let guest_headers: Vec<&str> = PA_GUEST_HEADERS.iter().flat_map(|h| ["-H", h]).collect();
    let runs: [(&str, &Server, &str, &[&str]); 7] = [
        (NATIVE, &native, "/", &[]),
        (PA_P2, &pa, "/t/default/fn/hello/", &[]),
        (PA_P3, &pa, "/t/default/fn/hello3/", &[]),
        (WASMTIME_DEFAULT, &wasmtime_default, "/", &[]),
        (WASMTIME_POOLING, &wasmtime_pooling, "/", &[]),
        (WASMTIME_P3, &wasmtime_p3, "/", &[]),
        (WASMTIME_P3_HEADERS, &wasmtime_p3, "/", &guest_headers),
    ];
    let mut results = Vec::new();
    for (name, server, path, headers) in runs {
        let extra = [&["-t1"][..], headers].concat();
        let m = load_with(&wrk, name, server, path, seconds, CONNECTIONS, &extra)?;
        eprintln!(
            "  {:<46} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>6.1} µs CPU/req",
            m.name, m.requests_per_sec, m.p50_ms, m.p99_ms, m.cpu_us_per_request
        );
        results.push(m);
    }

    let rps = |name: &str| {
        results
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.requests_per_sec)
            .unwrap_or(f64::NAN)
    };
    println!("\n| server | req/s | p50 ms | p99 ms | CPU µs/req |\n|---|---|---|---|---|");
    for m in &results {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} |",
            m.name, m.requests_per_sec, m.p50_ms, m.p99_ms, m.cpu_us_per_request
        );
    }
    println!("\nRatios (wrk -t1 -c{CONNECTIONS}, {seconds} s each, same machine, one run):");
    let ratios = [
        (
            "pa 0.2 / wasmtime serve 0.2 defaults",
            PA_P2,
            WASMTIME_DEFAULT,
            " (goal ≥ 3)",
        ),
        (
            "pa 0.2 / wasmtime serve 0.2 tuned pooling",
            PA_P2,
            WASMTIME_POOLING,
            " (goal ≥ 1.3)",
        ),
        ("pa 0.3 / wasmtime serve 0.3", PA_P3, WASMTIME_P3, " (goal ≥ 1.1)"),
        (
            "pa 0.3 / wasmtime serve 0.3 given the same headers",
            PA_P3,
            WASMTIME_P3_HEADERS,
            "",
        ),
        ("pa 0.2 / native axum", PA_P2, NATIVE, ""),
        ("pa 0.3 / native axum", PA_P3, NATIVE, ""),
    ];
    for (label, ours, theirs, goal) in ratios {
        println!("  {label:<52} {:.2}×{goal}", rps(ours) / rps(theirs));
    }
    Ok(())
}

/// Clients of `bench mcp`.
const MCP_CONNECTIONS: &str = "64";

/// `tools/call` of the trivial `faults_echo` at 64 concurrent clients over
/// the stateless 2026-07-28 wire: `pa` (the tool in a sandboxed component
/// with all limits on; with its default connection threads and with one)
/// beside the official Rust SDK (rmcp) serving the same tool natively.
fn mcp() -> Result {
    build_guests()?;
    build_host()?;
    run(cargo()
        .args(["build", "--release", "--target-dir"])
        .arg(root().join("target"))
        .arg("--manifest-path")
        .arg(root().join("bench/rmcp-echo/Cargo.toml")))?;
    let wrk = ensure_wrk()?;
    let seconds: u64 = std::env::var("PA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let pa = mcp_server("pa", &[])?;
    let pa_one_thread = mcp_server("pa-one-thread", &["--http-threads", "1"])?;
    let rmcp = spawn(&mut Command::new(root().join("target/release/rmcp-echo")))?;
    let script = root().join("target/bench/mcp.lua");
    std::fs::create_dir_all(script.parent().expect("a folder")).map_err(|e| e.to_string())?;
    std::fs::write(&script, mcp_script()).map_err(|e| e.to_string())?;
    let script = script.to_string_lossy().to_string();
    let runs: [(&str, &Server, &str); 3] = [
        ("pa (wasm tool, all limits on)", &pa, "/t/default/mcp"),
        ("pa, --http-threads 1", &pa_one_thread, "/t/default/mcp"),
        ("rmcp 3.11 native", &rmcp, ""),
    ];
    let mut results = Vec::new();
    for (name, server, path) in runs {
        check_echo(&format!("{}{path}", server.url))?;
        let m = load_with(
            &wrk,
            name,
            server,
            path,
            seconds,
            MCP_CONNECTIONS,
            &["-t2", "-s", &script],
        )?;
        eprintln!(
            "  {:<32} {:>9.0} calls/s  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>6.1} µs CPU/call",
            m.name, m.requests_per_sec, m.p50_ms, m.p99_ms, m.cpu_us_per_request
        );
        results.push(m);
    }
    println!("\n| server | tools/call per s | p50 ms | p99 ms | CPU µs/call |\n|---|---|---|---|---|");
    for m in &results {
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.1} |",
            m.name, m.requests_per_sec, m.p50_ms, m.p99_ms, m.cpu_us_per_request
        );
    }
    let rmcp = &results[2];
    println!(
        "\npa / rmcp throughput: {:.2}× (goal ≥ 1); pa p99 {:.2} ms (goal < 2 ms); \
         with one connection thread {:.2}× and p99 {:.2} ms; wrk -t2 -c{MCP_CONNECTIONS}, {seconds} s each",
        results[0].requests_per_sec / rmcp.requests_per_sec,
        results[0].p99_ms,
        results[1].requests_per_sec / rmcp.requests_per_sec,
        results[1].p99_ms
    );
    Ok(())
}

/// A fresh `pa serve` with `extra` flags whose default tenant serves
/// `faults_echo` (all limits on) at its public MCP endpoint.
fn mcp_server(data: &str, extra: &[&str]) -> Result<Server> {
    let (pa, token) = pa_server(data, extra)?;
    deploy(&pa, &token, "faults", &guests_dir().join("tool_faults.wasm"))?;
    run(Command::new("curl")
        .args(["-sS", "--fail-with-body", "-o", "/dev/null", "-X", "PUT", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{}/api/v1/tenants/default/mcp", pa.url))
        .args(["-d", r#"{"access":"public"}"#]))?;
    Ok(pa)
}

/// The stateless `tools/call` both servers answer.
const MCP_BODY: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"faults_echo","arguments":{"text":"hi"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// The wrk script sending [`MCP_BODY`] with the stateless headers.
fn mcp_script() -> String {
    format!(
        r#"wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/call"
wrk.headers["Mcp-Name"] = "faults_echo"
wrk.body = '{MCP_BODY}'

-- Every answer must be the echo: count the ones that are not.
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if not body:find('"text":"hi"', 1, true) or body:find('"isError":true', 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write("Bad answers: " .. total .. "\n")
end
"#
    )
}

/// One call answers the echo, so the load measures real tool calls.
fn check_echo(url: &str) -> Result {
    let out = Command::new("curl")
        .args(["-sS", "-H", "Content-Type: application/json"])
        .args(["-H", "Accept: application/json, text/event-stream"])
        .args(["-H", "MCP-Protocol-Version: 2026-07-28", "-H", "Mcp-Method: tools/call"])
        .args(["-H", "Mcp-Name: faults_echo", "-d", MCP_BODY, url])
        .output()
        .map_err(|e| format!("curl: {e}"))?;
    let body = String::from_utf8_lossy(&out.stdout);
    if body.contains(r#""text":"hi""#) && !body.contains(r#""isError":true"#) {
        Ok(())
    } else {
        Err(format!("{url} did not echo: {body}"))
    }
}

/// Starts a process that prints `… http://ADDR…` once listening. Backtrace
/// capture is off for every server alike (with `RUST_BACKTRACE=1` wasmtime
/// captures one on every store drop).
pub(crate) fn spawn(cmd: &mut Command) -> Result<Server> {
    let mut child = cmd
        .env_remove("RUST_BACKTRACE")
        .env("RUST_LIB_BACKTRACE", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(std::result::Result::ok) {
                if let Some(at) = line.find("http://") {
                    let addr: String = line[at..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(addr.trim_end_matches('/').replace("0.0.0.0", "127.0.0.1"));
                }
            }
        });
    }
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .map_err(|_| format!("{cmd:?} did not start listening"))?;
    Ok(Server { child, url })
}

/// A fresh `pa serve` on `target/bench/{data}` with `extra` flags, and its admin token.
pub(crate) fn pa_server(data: &str, extra: &[&str]) -> Result<(Server, String)> {
    let data = root().join("target/bench").join(data);
    let _ = std::fs::remove_dir_all(&data);
    let token = "bench-admin-token".to_string();
    let server = spawn(
        Command::new(pa_binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(extra)
            .env("PA_ADMIN_TOKEN", &token)
            .env("PA_LOG", "warn"),
    )?;
    Ok((server, token))
}

/// Uploads and enables a component with every limit on.
pub(crate) fn deploy(server: &Server, token: &str, name: &str, file: &PathBuf) -> Result {
    let pa = || {
        let mut cmd = Command::new(pa_binary());
        cmd.env("PA_TOKEN", token)
            .env("PA_SERVER", &server.url)
            .stdout(Stdio::null());
        cmd
    };
    run(pa()
        .args(["plugin", "push"])
        .arg(file)
        .args(["--name", name, "--version", "1.0.0"]))?;
    run(pa().args([
        "plugin",
        "enable",
        name,
        "--version",
        "1.0.0",
        "--timeout-ms",
        "30000",
        "--memory-mib",
        "128",
        "--max-concurrency",
        "256",
    ]))
}

fn wasmtime_serve(wasmtime: &PathBuf, flags: &[&str], component: &PathBuf) -> Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    spawn(
        Command::new(wasmtime)
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "-S", "cli"])
            .args(flags)
            .arg(component),
    )
}

/// Warms up, then loads `server` with wrk: `connections` at once, `extra` wrk arguments
/// (threads, a request script).
fn load_with(
    wrk: &str,
    name: &str,
    server: &Server,
    path: &str,
    seconds: u64,
    connections: &str,
    extra: &[&str],
) -> Result<Measurement> {
    let url = format!("{}{path}", server.url);
    let wrk_run = |secs: u64| {
        Command::new(wrk)
            .args(["-c", connections, "-d", &format!("{secs}s"), "--latency"])
            .args(extra)
            .arg(&url)
            .output()
            .map_err(|e| format!("wrk: {e}"))
    };
    wrk_run(2)?;
    let cpu_before = cpu_ticks(server.child.id())?;
    let out = wrk_run(seconds)?;
    let cpu_after = cpu_ticks(server.child.id())?;
    let report = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| -> Option<&str> {
        report
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_sec: f64 = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{name}: no Requests/sec in\n{report}"))?;
    let bad_answers = field("Bad answers:").is_some_and(|n| n != "0");
    if report.contains("Non-2xx") || report.contains("Socket errors") || bad_answers {
        return Err(format!("{name}: errors under load:\n{report}"));
    }
    let total: f64 = report
        .lines()
        .find_map(|l| {
            l.trim()
                .split_once(" requests in ")
                .and_then(|(n, _)| n.trim().parse().ok())
        })
        .unwrap_or(f64::NAN);
    let ticks_per_sec = 100.0;
    let cpu_us_per_request = (cpu_after - cpu_before) as f64 / ticks_per_sec * 1e6 / total;
    Ok(Measurement {
        name: name.to_string(),
        requests_per_sec,
        p50_ms: latency(field("50%")),
        p99_ms: latency(field("99%")),
        cpu_us_per_request,
    })
}

fn latency(value: Option<&str>) -> f64 {
    let Some(v) = value else { return f64::NAN };
    let (number, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, f64::NAN)
    };
    number.trim().parse::<f64>().map(|n| n * scale).unwrap_or(f64::NAN)
}

/// User + system CPU ticks of a process (and its threads).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| e.to_string())?;
    let after_name = &stat[stat.rfind(')').ok_or("bad /proc stat")? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields[11].parse().map_err(|_| "bad utime")?;
    let stime: u64 = fields[12].parse().map_err(|_| "bad stime")?;
    Ok(utime + stime)
}

fn ensure_wrk() -> Result<String> {
    if Command::new("wrk").arg("--version").output().is_err() {
        run(Command::new("apt-get").args(["install", "-y", "wrk"])).or_else(|_| {
            run(Command::new("apt-get").arg("update"))
                .and_then(|_| run(Command::new("apt-get").args(["install", "-y", "wrk"])))
        })?;
    }
    Ok("wrk".to_string())
}

/// `wasmtime` 48.0.8, installed once into a cache outside the repository
/// (`PA_BENCH_TOOLS`, default `~/.cache/pa-bench`): about ten minutes.
fn ensure_wasmtime() -> Result<PathBuf> {
    let tools = std::env::var_os("PA_BENCH_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into())).join(".cache/pa-bench")
        });
    let root_dir = tools.join(format!("wasmtime-{WASMTIME_VERSION}"));
    let binary = root_dir.join("bin/wasmtime");
    if !binary.exists() {
        eprintln!(
            "xtask: installing wasmtime-cli {WASMTIME_VERSION} into {} (about ten minutes, once)",
            root_dir.display()
        );
        run(cargo()
            .args([
                "install",
                &format!("wasmtime-cli@{WASMTIME_VERSION}"),
                "--locked",
                "--root",
            ])
            .arg(&root_dir))?;
    }
    Ok(binary)
}
