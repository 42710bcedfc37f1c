//! Misbehaving functions are stopped or refused with a clear error while
//! another tenant's function keeps answering.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{ADMIN, Api, Pa, get, origin, wait_in_flight};

/// An `openssl s_server` with a self-signed certificate on loopback, killed
/// when the returned guard drops.
fn tls_origin(dir: &std::path::Path) -> (u16, KillOnDrop) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = std::process::Command::new("openssl")
        .args(["s_server", "-quiet", "-www", "-accept", &port.to_string(), "-cert"])
        .arg(&cert)
        .arg("-key")
        .arg(&key)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("openssl s_server");
    let guard = KillOnDrop(server);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(20));
    }
    (port, guard)
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Asserts the healthy tenant's function answers while `fault` runs.
async fn while_healthy_answers<F: Future<Output = (u16, String)>>(healthy: &str, fault: F) -> (u16, String) {
    let (result, healthy) = tokio::join!(fault, async {
        let mut answers = Vec::new();
        for _ in 0..5 {
            answers.push(get(healthy).await);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        answers
    });
    for answer in healthy {
        assert_eq!(
            answer,
            (200, "hello from pa".to_string()),
            "the other tenant must keep being served"
        );
    }
    result
}

#[tokio::test]
async fn faults_are_contained() {
    let data = tempfile::tempdir().unwrap();
    let pa = Pa::serve(data.path(), &[]);
    let admin = Api::new(&pa, ADMIN);
    let good = Api::new(&pa, &admin.create_tenant("good").await);
    let bad = Api::new(&pa, &admin.create_tenant("bad").await);
    good.deploy("good", "hello", "1.0.0", "hello_p2.wasm", json!({})).await;
    let port = origin().await;
    let limits = json!({ "timeout_ms": 400, "memory_mib": 32, "max_concurrency": 1 });
    let granted =
        json!({ "limits": limits, "grants": { "allowed_outbound_hosts": [format!("http://127.0.0.1:{port}")] } });
    bad.deploy("bad", "faults", "1.0.0", "faults.wasm", granted).await;
    let wildcard = json!({ "limits": limits, "grants": { "allowed_outbound_hosts": ["http://*:*"] } });
    bad.deploy("bad", "wild", "1.0.0", "faults.wasm", wildcard).await;
    let healthy = format!("{}/t/good/fn/hello", pa.url);
    let fault = |path: &str| format!("{}/t/bad/fn/faults/{path}", pa.url);

    // An infinite loop is stopped at its timeout.
    let started = Instant::now();
    let (status, body) = while_healthy_answers(&healthy, get(&fault("loop"))).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 504, "{body}");
    assert!(body.contains("timeout"), "{body}");
    assert!(elapsed < Duration::from_millis(400 + 100), "answered after {elapsed:?}");

    // Growing memory past the limit fails cleanly.
    let (status, body) = while_healthy_answers(&healthy, get(&fault("grow"))).await;
    assert!(
        status == 500 && body.contains("memory limit of 32 MiB") || status == 200 && body.starts_with("grew"),
        "{status} {body}"
    );
    if status == 200 {
        let grown: u64 = body
            .trim_start_matches("grew ")
            .trim_end_matches(" MiB")
            .parse()
            .unwrap();
        assert!(grown <= 32, "grew to {grown} MiB past a 32 MiB limit");
    }

    // No files, sockets or environment.
    let (status, body) = while_healthy_answers(&healthy, get(&fault("file"))).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("denied:"), "{body}");
    let (status, body) = get(&fault("socket")).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("denied:"), "{body}");
    assert_eq!(get(&fault("env")).await, (200, "0".to_string()));

    // Outbound HTTP: granted host works, others are refused, and a wildcard
    // grant does not reach loopback addresses.
    let (status, body) = get(&fault(&format!("fetch?url=http://127.0.0.1:{port}/"))).await;
    assert_eq!((status, body.as_str()), (200, "fetched 200 origin"));
    let (status, body) = get(&fault(&format!("fetch?url=http://localhost:{port}/"))).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("HttpRequestDenied"), "{body}");
    let (status, body) = get(&format!("{}/t/bad/fn/wild/fetch?url=http://127.0.0.1:{port}/", pa.url)).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("DestinationIpProhibited"), "{body}");

    // HTTPS goes through TLS to the checked address, verifying certificates.
    let (tls_port, _tls_origin) = tls_origin(data.path());
    let tls_grant = json!({ "grants": { "allowed_outbound_hosts": [format!("https://127.0.0.1:{tls_port}")] } });
    bad.deploy("bad", "tls", "1.0.0", "faults.wasm", tls_grant).await;
    let (status, body) = get(&format!(
        "{}/t/bad/fn/tls/fetch?url=https://127.0.0.1:{tls_port}/",
        pa.url
    ))
    .await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("TlsCertificateError"),
        "a self-signed origin must fail certificate checks: {body}"
    );

    // Past the concurrency limit: 429 with Retry-After.
    let loop_url = fault("loop");
    let slow = tokio::spawn(async move { get(&loop_url).await });
    wait_in_flight(&pa.url, "bad", "faults").await;
    let response = reqwest::get(fault("ok")).await.unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response.text().await.unwrap().contains("concurrent requests"));
    assert_eq!(slow.await.unwrap().0, 504);
    assert_eq!(get(&fault("ok")).await, (200, "ok".to_string()));
    assert_eq!(get(&healthy).await, (200, "hello from pa".to_string()));

    let (_, metrics) = get(&format!("{}/metrics", pa.url)).await;
    for limit in ["timeout", "concurrency"] {
        assert!(
            metrics.contains(&format!(
                "pa_limit_hits_total{{limit=\"{limit}\",plugin=\"faults\",tenant=\"bad\"}}"
            )),
            "{limit}: {metrics}"
        );
    }
}

#[tokio::test]
async fn a_busy_guest_does_not_hold_up_the_thread_serving_its_connection() {
    let data = tempfile::tempdir().unwrap();
    // One thread serves every connection: the looping guest's and the others'.
    let pa = Pa::serve(data.path(), &["--http-threads", "1"]);
    let admin = Api::new(&pa, ADMIN);
    admin
        .deploy("default", "hello", "1.0.0", "hello_p2.wasm", json!({}))
        .await;
    let limits = json!({ "limits": { "timeout_ms": 3000 } });
    admin.deploy("default", "faults", "1.0.0", "faults.wasm", limits).await;
    let looping = async {
        let answer = get(&format!("{}/t/default/fn/faults/loop", pa.url)).await;
        (answer, Instant::now())
    };
    let others = async {
        // A blocked thread would answer this only once the loop ended.
        tokio::time::timeout(Duration::from_secs(30), wait_in_flight(&pa.url, "default", "faults"))
            .await
            .expect("the looping call never showed as in flight while it ran");
        for _ in 0..5 {
            let answer = get(&format!("{}/t/default/fn/hello", pa.url)).await;
            assert_eq!(answer, (200, "hello from pa".to_string()));
        }
        Instant::now()
    };
    let (((status, body), loop_ended), others_ended) = tokio::join!(looping, others);
    assert_eq!(status, 504, "{body}");
    assert!(others_ended < loop_ended, "the other calls waited for the loop to end");
}
