//! `pa up` serves the repository's `spin.toml`.

use std::path::Path;

use crate::support::{Pa, get};

#[tokio::test]
async fn up_serves_the_example_manifest() {
    let data = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spin.toml");
    let pa = Pa::start(
        &[
            "up",
            "--file",
            manifest.to_str().unwrap(),
            "--data-dir",
            data.path().to_str().unwrap(),
        ],
        &[],
    );

    assert_eq!(get(&format!("{}/hello", pa.url)).await, (200, "hello from pa".into()));
    assert_eq!(get(&format!("{}/hello3", pa.url)).await, (200, "hello from pa".into()));
    assert_eq!(get(&format!("{}/spin5", pa.url)).await, (200, "spin5 hello".into()));
    assert_eq!(
        get(&format!("{}/spin7/anything", pa.url)).await,
        (200, "spin7 hello".into())
    );
    let (status, body) = get(&format!("{}/spin5/var", pa.url)).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "hello from a Spin variable (spin-sdk 5)")
    );
    let (status, body) = get(&format!("{}/spin7/var", pa.url)).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "hello from a Spin variable (spin-sdk 7)")
    );

    let client = reqwest::Client::new();
    let put = client
        .put(format!("{}/spin7/kv/colour", pa.url))
        .body("blue")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 201);
    assert_eq!(get(&format!("{}/spin7/kv/colour", pa.url)).await, (200, "blue".into()));
    // Each component has its own key-value data.
    assert_eq!(get(&format!("{}/spin5/kv/colour", pa.url)).await.0, 404);

    let (status, body) = get(&format!("{}/nope", pa.url)).await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("no route matches `/nope`"), "{body}");
    assert_eq!(get(&format!("{}/hello/extra", pa.url)).await.0, 404);
}

#[tokio::test]
async fn up_names_unsupported_manifest_keys() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        "spin_manifest_version = 2\n[application]\nname = \"x\"\n[component.a]\nsource = \"a.wasm\"\nfiles = [\"static\"]\n",
    )
    .unwrap();
    let out = std::process::Command::new(crate::support::pa_bin())
        .args(["up", "--file"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unsupported manifest keys: component.a.files"),
        "{stderr}"
    );
}
