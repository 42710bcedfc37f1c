//! `cargo xtask up`: build everything, start `pa serve` on the embedded
//! default (SQLite + local blobs under `target/up`), upload and enable the
//! example functions, and keep serving until Ctrl-C.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::{Result, build_guests, build_host, guests_dir, pa_binary, root, run};

const LISTEN: &str = "127.0.0.1:8080";

/// The example functions: (plugin name, component file, extra `pa plugin enable` flags).
/// The platform's own components (`components/first-party.toml`: the OCR
/// product workflow's agents and the MCP tool servers) are enabled from
/// its first-party offer.
const EXAMPLES: &[(&str, &str, &[&str])] = &[
    ("hello", "hello_p2.wasm", &[]),
    (
        "spin5",
        "spin5_kv.wasm",
        &["--kv-store", "default", "--var", "greeting=hello from spin-sdk 5"],
    ),
    (
        "spin7",
        "spin7_kv.wasm",
        &["--kv-store", "default", "--var", "greeting=hello from spin-sdk 7"],
    ),
];

/// The first-party components `up` enables in the `default` tenant: all of them.
const FIRST_PARTY: &[&str] = &[
    "ocr-requirements",
    "ocr-design",
    "ocr-implementation",
    "ocr-testing",
    "ocr-release",
    "ocr-operations",
    "smartui",
    "coding",
    "dev-flow",
    "release-mgmt",
    "operations",
];

pub fn start() -> Result {
    crate::fixtures::ensure_runtime_packages()?;
    build_guests()?;
    build_host()?;
    crate::console::build()?;
    let data_dir = root().join("target/up");
    let token = std::env::var("PA_ADMIN_TOKEN").unwrap_or_else(|_| "pa-dev-admin-token".to_string());
    let mut server = Command::new(pa_binary())
        .args(["serve", "--listen", LISTEN, "--data-dir"])
        .arg(&data_dir)
        .arg("--console-dir")
        .arg(root().join("console/dist"))
        .arg("--first-party-dir")
        .arg(guests_dir())
        .env("PA_ADMIN_TOKEN", &token)
        .spawn()
        .map_err(|e| format!("cannot start pa: {e}"))?;
    wait_healthy()?;
    for (name, file, flags) in EXAMPLES {
        // The version names the content, so re-running `up` with unchanged
        // guests re-uses their versions and a rebuilt guest gets a new one.
        let version = format!("0.1.0+{}", content_id(&guests_dir().join(file))?);
        let pa = || pa_client(&token);
        run(pa()
            .args(["plugin", "push"])
            .arg(guests_dir().join(file))
            .args(["--name", name, "--version", &version]))?;
        run(pa()
            .args(["plugin", "enable", name, "--version", &version])
            .args(*flags))?;
    }
    for name in FIRST_PARTY {
        run(pa_client(&token).args(["plugin", "enable-first-party", name]))?;
    }
    let password = std::env::var("PA_CONSOLE_PASSWORD").unwrap_or_else(|_| "pa-dev-password".to_string());
    create_console_admin(&token, &password)?;
    println!("\nPowerAutomation is running at http://{LISTEN} (admin API key: {token})");
    println!("Console: http://{LISTEN}/console/ (user `admin`, password `{password}`)");
    println!("Try:");
    println!("  curl http://{LISTEN}/t/default/fn/hello");
    println!(
        "  curl -X PUT --data world http://{LISTEN}/t/default/fn/spin5/kv/greeting && curl http://{LISTEN}/t/default/fn/spin5/kv/greeting"
    );
    println!("  curl http://{LISTEN}/t/default/fn/spin7/var");
    println!("  curl -H 'Authorization: Bearer {token}' http://{LISTEN}/api/v1/tenants/default/plugins");
    println!("  curl http://{LISTEN}/metrics");
    println!(
        "  curl -H 'Authorization: Bearer {token}' -d '{{\"requirement\": \"Extract the invoice number and total from scanned invoices\"}}' http://{LISTEN}/api/v1/tenants/default/orchestrator/plan"
    );
    println!("Press Ctrl-C to stop.");
    let status = server.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("pa exited with {status}"))
    }
}

/// `pa` talking to the platform `up` started, as its admin.
fn pa_client(token: &str) -> Command {
    let mut cmd = Command::new(pa_binary());
    cmd.env("PA_TOKEN", token).env("PA_SERVER", format!("http://{LISTEN}"));
    cmd
}

fn wait_healthy() -> Result {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(mut stream) = TcpStream::connect(LISTEN) {
            let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                return Ok(());
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("pa did not answer on {LISTEN} within 30 s"))
}

/// Creates the platform administrator `admin` who signs in to the console
/// (already there after an earlier `up`: left as it is).
fn create_console_admin(token: &str, password: &str) -> Result {
    let body = format!(r#"{{"username": "admin", "password": "{password}", "platform_admin": true}}"#);
    let request = format!(
        "POST /api/v1/users HTTP/1.0\r\nHost: {LISTEN}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(LISTEN).map_err(|e| format!("cannot reach pa: {e}"))?;
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| e.to_string())?;
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    match status {
        "201" | "409" => Ok(()),
        _ => Err(format!("creating the console's admin user: {answer}")),
    }
}

/// The first 12 hex digits of a file's SHA-256 (via coreutils' `sha256sum`).
fn content_id(path: &std::path::Path) -> Result<String> {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .map_err(|e| format!("sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.get(..12)
        .map(str::to_string)
        .ok_or_else(|| format!("sha256sum printed nothing for {}", path.display()))
}
