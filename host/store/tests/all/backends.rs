//! Opening a fresh store of each backend.

use std::sync::atomic::{AtomicU32, Ordering};

use pa_store::Store;

/// The PostgreSQL server the tests use.
pub fn postgres_url() -> String {
    std::env::var("PA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A schema name no other test (or parallel run) uses.
pub fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "pa_test_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty store: `sqlite` in memory or `postgres` in a new schema.
pub async fn open(backend: &str) -> Store {
    let url = match backend {
        "sqlite" => "sqlite::memory:".to_string(),
        "postgres" => format!("{}?schema={}", postgres_url(), unique_schema()),
        other => panic!("unknown backend {other}"),
    };
    let store = Store::open(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    assert_eq!(store.backend(), backend);
    store
}

/// Declares one `#[tokio::test]` per backend for a story step `fn(Store)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                super::$story($crate::backends::open("sqlite").await).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                super::$story($crate::backends::open("postgres").await).await
            })*
        }
    };
}
