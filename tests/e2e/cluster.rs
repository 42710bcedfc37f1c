//! Two `pa serve` nodes behind Debian's nginx on loopback, sharing the test
//! PostgreSQL, Redis and a blob folder: one is killed with SIGKILL under
//! steady load, and the cluster keeps serving, finishes its workflow run and
//! follows an enable made on one node on the other.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use sqlx::Connection;

use crate::backends::SECRET;
use crate::support::{ADMIN, Api, Pa, get, guest_bytes, postgres_url, unique_name};
use crate::workflows::{assert_effects_once, ended, save_chain, start, wait_for_run};

/// Clients sending requests at once: at most this many can be in flight on
/// the node that is killed.
const CLIENTS: usize = 8;

/// The nodes' shared settings.
pub struct Cluster {
    database_url: String,
    schema: String,
    redis_prefix: String,
    blobs: tempfile::TempDir,
}

impl Cluster {
    pub fn new() -> Cluster {
        let schema = unique_name("pa_cluster");
        Cluster {
            database_url: format!("{}?schema={schema}", postgres_url()),
            schema,
            redis_prefix: format!("{}:", unique_name("pa_cluster")),
            blobs: tempfile::tempdir().unwrap(),
        }
    }

    /// A node with its own data folder (compiled code, secrets) and the shared stores.
    pub fn node(&self, dir: &tempfile::TempDir) -> Pa {
        let blob_url = format!("file://{}", self.blobs.path().display());
        Pa::start(
            &[
                "serve",
                "--data-dir",
                dir.path().to_str().unwrap(),
                "--database-url",
                &self.database_url,
                "--redis-url",
                "redis://127.0.0.1:6379",
                "--redis-prefix",
                &self.redis_prefix,
                "--blob-url",
                &blob_url,
                "--workflow-lease-secs",
                "2",
                "--task-lease-secs",
                "2",
            ],
            &[("PA_ADMIN_TOKEN", ADMIN), ("PA_SECRET_KEY", SECRET)],
        )
    }

    /// The node that holds a running step of `run`, by process id.
    async fn step_holder(&self, run: &str) -> Option<String> {
        let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
        sqlx::query(&format!("SET search_path TO {}", self.schema))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query_scalar("SELECT lease_owner FROM workflow_steps WHERE run_id = $1 AND state = 'running'")
            .bind(run)
            .fetch_optional(&mut conn)
            .await
            .unwrap()
            .flatten()
    }
}

/// Debian's nginx in front of `nodes`, with the upstream and retry settings
/// of `deploy/nginx/conf.d/pa.conf` (plain HTTP on loopback).
struct Nginx {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(nodes: &[&Pa]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let servers: String = nodes
            .iter()
            .map(|pa| {
                let address = pa.url.trim_start_matches("http://");
                format!("server {address} max_fails=3 fail_timeout=10s;\n")
            })
            .collect();
        let d = dir.path().display();
        let config = format!(
            "worker_processes 1;\n\
             events {{ worker_connections 1024; }}\n\
             http {{\n\
               access_log off;\n\
               client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;\n\
               uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;\n\
               upstream pa {{ {servers} keepalive 32; }}\n\
               server {{\n\
                 listen 127.0.0.1:{port};\n\
                 location / {{\n\
                   proxy_pass http://pa;\n\
                   proxy_http_version 1.1;\n\
                   proxy_set_header Connection \"\";\n\
                   proxy_set_header Host $http_host;\n\
                   proxy_connect_timeout 2s;\n\
                   proxy_next_upstream error timeout http_502 http_503;\n\
                   proxy_next_upstream_tries 2;\n\
                   proxy_next_upstream_timeout 15s;\n\
                 }}\n\
               }}\n\
             }}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
        let globals = format!("daemon off; pid {d}/nginx.pid; error_log {d}/error.log warn; user root;");
        let nginx = ["/usr/sbin/nginx", "/sbin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is missing: run `cargo xtask test` (it installs Debian's nginx)");
        let child = Command::new(nginx)
            .args(["-p", &format!("{d}/"), "-c", "nginx.conf", "-g", &globals])
            .stdout(Stdio::null())
            .spawn()
            .expect("start nginx");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not listen: {}", d);
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, url, _dir: dir }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the steady load saw.
#[derive(Default)]
struct Load {
    stop: AtomicBool,
    ok: AtomicUsize,
    failures: std::sync::Mutex<Vec<String>>,
}

/// `CLIENTS` clients calling `url` back to back until told to stop.
fn steady_load(url: String) -> (Arc<Load>, Vec<tokio::task::JoinHandle<()>>) {
    let load = Arc::new(Load::default());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let clients = (0..CLIENTS)
        .map(|_| {
            let (load, http, url) = (load.clone(), http.clone(), url.clone());
            tokio::spawn(async move {
                while !load.stop.load(Ordering::Relaxed) {
                    let answer = match http.get(&url).send().await {
                        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_else(|e| e.to_string())),
                        Err(e) => (0, e.to_string()),
                    };
                    match answer {
                        (200, body) if body.contains("hello from pa") => {
                            load.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        (status, body) => load.failures.lock().unwrap().push(format!("{status}: {body}")),
                    }
                }
            })
        })
        .collect();
    (load, clients)
}

/// How long `url` takes to answer 200 (polled every 10 ms, up to 10 s).
async fn time_until_served(url: &str) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = get(url).await;
        if status == 200 {
            return started.elapsed();
        }
        assert_eq!(status, 404, "{body}");
        assert!(started.elapsed() < Duration::from_secs(10), "never served: {body}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_node_killed_under_load_costs_only_its_in_flight_requests() {
    let cluster = Cluster::new();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = cluster.node(&dir_a);
    let mut b = cluster.node(&dir_b);
    let api_a = Api::new(&a, ADMIN);
    let api_b = Api::new(&b, ADMIN);
    api_a.create_tenant("acme").await;
    let kv = json!({"grants": {"key_value_stores": ["default"]}});
    api_a.deploy("acme", "steps", "1.0.0", "test_step.wasm", kv).await;
    api_a.deploy("acme", "web", "1.0.0", "hello_p2.wasm", json!({})).await;
    // Node B hears of A's enables, and so serves what A enabled.
    time_until_served(&format!("{}/t/acme/fn/web", b.url)).await;

    let nginx = Nginx::start(&[&a, &b]);
    let (load, clients) = steady_load(format!("{}/t/acme/fn/web", nginx.url));

    // An enable on A is served by B within a second. The component is one B
    // has compiled already (the bytes of `web`), so this is the time the
    // change takes to reach B and B to load it.
    let (status, body) = api_a
        .upload("acme", "web2", "1.0.0", guest_bytes("hello_p2.wasm"))
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = api_a.enable("acme", "web2", json!({"version": "1.0.0"})).await;
    assert_eq!(status, 200, "{body}");
    let propagation = time_until_served(&format!("{}/t/acme/fn/web2", b.url)).await;
    eprintln!("cluster: an enable on node A was served by node B after {propagation:?}");
    assert!(
        propagation < Duration::from_secs(1),
        "node B served web2 only {propagation:?} after node A enabled it"
    );
    // A component B has never seen is compiled by B first (not timed: the
    // compiler's speed is not what this checks).
    api_a.deploy("acme", "web3", "1.0.0", "hello_p3.wasm", json!({})).await;
    let with_compile = time_until_served(&format!("{}/t/acme/fn/web3", b.url)).await;
    eprintln!("cluster: a new component enabled on node A was compiled and served by node B after {with_compile:?}");

    // A disable travels the same way.
    let (status, body) = api_a
        .send(Method::POST, "/api/v1/tenants/acme/plugins/web2/disable", None)
        .await;
    assert_eq!(status, 200, "{body}");
    let started = Instant::now();
    while get(&format!("{}/t/acme/fn/web2", b.url)).await.0 != 404 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "node B kept serving a disabled plugin"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A workflow run that node B is working on when it is killed.
    save_chain(&api_b, 20).await;
    let run = start(&api_b, "chain", json!({})).await;
    let b_owner = format!("node-{}-", b.pid());
    let deadline = Instant::now() + Duration::from_secs(30);
    while !cluster.step_holder(&run).await.is_some_and(|o| o.starts_with(&b_owner)) {
        assert!(Instant::now() < deadline, "node B never took a step of the run");
    }
    let before_kill = load.ok.load(Ordering::Relaxed);
    b.kill();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after_kill = load.ok.load(Ordering::Relaxed) - before_kill;

    let done = wait_for_run(&api_a, "acme", &run, ended).await;
    assert_effects_once(&done);

    load.stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    let failures = load.failures.lock().unwrap().clone();
    let ok = load.ok.load(Ordering::Relaxed);
    eprintln!(
        "cluster: {ok} requests served through nginx ({after_kill} in the 3 s after the kill), {} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
    assert!(after_kill > 0, "nothing was served after node B was killed");
    assert!(
        failures.len() <= CLIENTS,
        "{} requests failed, more than the {CLIENTS} that can have been in flight on node B: {:?}",
        failures.len(),
        &failures[..failures.len().min(20)]
    );
}
