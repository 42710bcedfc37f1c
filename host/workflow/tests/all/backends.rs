//! A fresh store of each backend, with tenant `acme`.

use std::sync::atomic::{AtomicU32, Ordering};

use pa_store::Store;

/// A store and what keeps it alive.
pub struct TestDb {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
}

/// A new store: `sqlite` in a temporary file or `postgres` (`PA_TEST_POSTGRES_URL`,
/// default `postgres://postgres@127.0.0.1:5432/test`) in a schema of its own.
pub async fn open(backend: &str) -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let (url, dir) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            (format!("sqlite://{}", dir.path().join("pa.db").display()), Some(dir))
        }
        _ => {
            let base = std::env::var("PA_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let next = NEXT.fetch_add(1, Ordering::Relaxed);
            let schema = format!("pa_wf_{}_{nanos}_{next}", std::process::id());
            (format!("{base}?schema={schema}"), None)
        }
    };
    let store = Store::open(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    store.ensure_tenant("acme").await.unwrap();
    store.ensure_tenant("other").await.unwrap();
    TestDb { store, _dir: dir }
}
