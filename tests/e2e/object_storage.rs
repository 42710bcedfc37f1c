//! Component and site bytes in an S3-compatible bucket (`--blob-url s3://…`),
//! against a real S3 server process: moto in server mode, installed by
//! `cargo xtask test`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::backends::SECRET;
use crate::support::{ADMIN, Api, Pa, get, postgres_url, unique_name};
use crate::workflows::{ended, start, wait_for_run};

/// moto's S3 server on a free loopback port, stopped on drop.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let program = std::env::var_os("PA_MOTO_SERVER")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/venvs/tools/bin/moto_server")
            });
        assert!(
            program.exists(),
            "{} is missing: run `cargo xtask test`, which installs moto",
            program.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The object keys of `bucket` under `prefix`.
    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2&prefix={prefix}", self.endpoint);
        let (status, xml) = get(&url).await;
        assert_eq!(status, 200, "{xml}");
        xml.split("<Key>")
            .skip(1)
            .filter_map(|part| part.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A node storing blobs in `bucket/prefix` at `moto`, with its own data folder.
fn node(moto: &Moto, database_url: &str, blob_url: &str, dir: &tempfile::TempDir) -> Pa {
    Pa::start(
        &[
            "serve",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database-url",
            database_url,
            "--blob-url",
            blob_url,
        ],
        &[
            ("PA_ADMIN_TOKEN", ADMIN),
            ("PA_SECRET_KEY", SECRET),
            ("AWS_ENDPOINT", &moto.endpoint),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", "us-east-1"),
        ],
    )
}

#[tokio::test]
async fn components_and_sites_live_in_the_bucket_and_any_node_serves_them() {
    let moto = Moto::start();
    let bucket = "pa-blobs";
    let created = reqwest::Client::new()
        .put(format!("{}/{bucket}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{:?}", created.text().await);
    let database_url = format!("{}?schema={}", postgres_url(), unique_name("pa_s3"));
    let blob_url = format!("s3://{bucket}/platform-a");

    let first_dir = tempfile::tempdir().unwrap();
    let first = node(&moto, &database_url, &blob_url, &first_dir);
    let api = Api::new(&first, ADMIN);
    api.create_tenant("acme").await;
    api.deploy("acme", "web", "1.0.0", "hello_p2.wasm", json!({})).await;
    let publish = json!({"grants": {"sites": ["docs"], "key_value_stores": ["default"]}});
    api.deploy("acme", "steps", "1.0.0", "test_step.wasm", publish).await;
    let definition = json!({"steps": [{"id": "publish", "component": {"plugin": "steps", "input": {
        "publish": {"site": "docs", "files": {"index.html": "<h1>from the bucket</h1>"}}
    }}}]});
    let (status, body) = api
        .send(
            Method::PUT,
            "/api/v1/tenants/acme/workflows/site",
            Some(definition.to_string().into_bytes()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let run = start(&api, "site", json!({})).await;
    let done = wait_for_run(&api, "acme", &run, ended).await;
    assert_eq!(done["state"], "succeeded", "{done}");

    // Two components and one site file, under the prefix; nothing in the data folder.
    let keys = moto.keys(bucket, "platform-a/").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys.iter().all(|k| k.len() == "platform-a/".len() + 64), "{keys:?}");
    assert!(!first_dir.path().join("blobs").exists(), "blobs were written locally");

    // A node with an empty data folder serves both from the bucket.
    drop(first);
    let second_dir = tempfile::tempdir().unwrap();
    let second = node(&moto, &database_url, &blob_url, &second_dir);
    let (status, body) = get(&format!("{}/t/acme/fn/web", second.url)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(&format!("{}/t/acme/sites/docs/", second.url)).await;
    assert_eq!((status, body.as_str()), (200, "<h1>from the bucket</h1>"));
}

#[test]
fn a_bad_blob_url_stops_the_server_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(crate::support::pa_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(["--blob-url", "ftp://somewhere/blobs"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("blob URL `ftp://somewhere/blobs`") && stderr.contains("s3://BUCKET"),
        "{stderr}"
    );
}
