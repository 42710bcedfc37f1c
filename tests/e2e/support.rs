//! Starting `pa` processes and talking to them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ADMIN: &str = "test-admin-token";

/// The PostgreSQL server of the tests.
pub fn postgres_url() -> String {
    std::env::var("PA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A name (schema, key prefix) no other test or parallel run uses.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap().subsec_nanos(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn pa_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pa"))
}

pub fn guest(file: &str) -> PathBuf {
    let dir = std::env::var_os("PA_GUESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/guests/wasm32-wasip2/release"));
    let path = dir.join(file);
    assert!(path.exists(), "{} is missing: run `cargo xtask test`", path.display());
    path
}

pub fn guest_bytes(file: &str) -> Vec<u8> {
    std::fs::read(guest(file)).unwrap()
}

/// The stderr lines of a [`Pa`] started with [`Pa::start_logged`], as they come.
#[derive(Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl Logs {
    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// A running `pa` process, killed on drop.
pub struct Pa {
    child: Child,
    pub url: String,
}

impl Pa {
    /// Starts `pa <args> --listen 127.0.0.1:0` and waits for its address.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Pa {
        Pa::spawn(args, env, None)
    }

    /// Like [`Pa::start`], collecting what the process writes to stderr (its logs).
    pub fn start_logged(args: &[&str], env: &[(&str, &str)]) -> (Pa, Logs) {
        let logs = Logs::default();
        (Pa::spawn(args, env, Some(logs.clone())), logs)
    }

    fn spawn(args: &[&str], env: &[(&str, &str)], logs: Option<Logs>) -> Pa {
        let mut cmd = Command::new(pa_bin());
        cmd.args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .env("PA_LOG", "warn")
            .env("PA_FIRST_PARTY_DIR", guest("smartui.wasm").parent().unwrap());
        if logs.is_some() {
            cmd.stderr(Stdio::piped());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start pa");
        if let Some(logs) = logs {
            let stderr = BufReader::new(child.stderr.take().unwrap());
            std::thread::spawn(move || {
                for line in stderr.lines().map_while(Result::ok) {
                    logs.0.lock().unwrap().push(line);
                }
            });
        }
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            let line = lines.next().expect("pa exited before listening").unwrap();
            if let Some(url) = line.strip_prefix("listening on ") {
                break url.trim().to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Pa { child, url }
    }

    /// `pa serve` on `data_dir` with the test admin token.
    pub fn serve(data_dir: &Path, extra: &[&str]) -> Pa {
        let mut args = vec!["serve", "--data-dir", data_dir.to_str().unwrap()];
        args.extend_from_slice(extra);
        Pa::start(&args, &[("PA_ADMIN_TOKEN", ADMIN)])
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (graceful shutdown) and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        self.child.wait().unwrap()
    }

    /// Kills the process with SIGKILL (no shutdown at all) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Pa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An API client for one server and key.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl Api {
    pub fn new(pa: &Pa, token: &str) -> Api {
        Api {
            http: reqwest::Client::new(),
            url: pa.url.clone(),
            token: token.to_string(),
        }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Vec<u8>>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Sends `body` as JSON.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        self.send(method, path, Some(body.to_string().into_bytes())).await
    }

    /// Creates each tenant with an HTTP function uploaded (not enabled) as its plugin.
    pub async fn tenants_with_plugin(&self, tenants: &[(&str, &str)]) {
        for (tenant, plugin) in tenants {
            self.create_tenant(tenant).await;
            let (status, body) = self.upload(tenant, plugin, "1.0.0", guest_bytes("hello_p2.wasm")).await;
            assert_eq!(status, 201, "{body}");
        }
    }

    /// Creates an API key of `tenant` with `role`; returns the key.
    pub async fn create_key(&self, tenant: &str, role: &str) -> String {
        let (status, key) = self
            .send_json(
                reqwest::Method::POST,
                &format!("/api/v1/tenants/{tenant}/api-keys"),
                json!({ "role": role }),
            )
            .await;
        assert_eq!(status, 201, "{key}");
        key["key"].as_str().unwrap().to_string()
    }

    pub async fn create_tenant(&self, id: &str) -> String {
        let (status, _) = self
            .send(
                reqwest::Method::POST,
                "/api/v1/tenants",
                Some(json!({ "id": id }).to_string().into_bytes()),
            )
            .await;
        assert_eq!(status, 201);
        let (status, key) = self
            .send(reqwest::Method::POST, &format!("/api/v1/tenants/{id}/api-keys"), None)
            .await;
        assert_eq!(status, 201, "{key}");
        key["key"].as_str().unwrap().to_string()
    }

    pub async fn upload(&self, tenant: &str, name: &str, version: &str, bytes: Vec<u8>) -> (u16, Value) {
        self.send(
            reqwest::Method::PUT,
            &format!("/api/v1/tenants/{tenant}/plugins/{name}/versions/{version}"),
            Some(bytes),
        )
        .await
    }

    pub async fn enable(&self, tenant: &str, name: &str, body: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/api/v1/tenants/{tenant}/plugins/{name}/enable"),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Uploads and enables in one go, asserting success.
    pub async fn deploy(&self, tenant: &str, name: &str, version: &str, file: &str, config: Value) {
        let (status, body) = self.upload(tenant, name, version, guest_bytes(file)).await;
        assert!(status == 201 || status == 200, "upload {name}: {status} {body}");
        let mut config = config;
        config["version"] = json!(version);
        let (status, body) = self.enable(tenant, name, config).await;
        assert_eq!(status, 200, "enable {name}: {body}");
    }
}

/// GET a URL, returning status and body text.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Waits until `/metrics` shows one request of `tenant`/`plugin` in flight.
pub async fn wait_in_flight(pa_url: &str, tenant: &str, plugin: &str) {
    let gauge = format!("pa_function_requests_in_flight{{plugin=\"{plugin}\",tenant=\"{tenant}\"}} 1");
    while !get(&format!("{pa_url}/metrics")).await.1.contains(&gauge) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// A one-page HTTP server on loopback, for outbound-HTTP grants.
pub async fn origin() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\norigin")
                    .await;
            });
        }
    });
    port
}

/// `pa <args>` against `pa` as the platform admin.
pub fn cli(pa: &Pa, args: &[&str]) -> std::process::Output {
    Command::new(pa_bin())
        .args(args)
        .env("PA_SERVER", &pa.url)
        .env("PA_TOKEN", ADMIN)
        .output()
        .unwrap()
}

/// Whether a finished command succeeded, and what it printed (stdout, then stderr).
pub fn outcome(out: &std::process::Output) -> (bool, String) {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
