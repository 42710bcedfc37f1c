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

/// A fresh store and a way around it (to tamper with rows as an attacker would).
pub struct TestDb {
    pub store: Store,
    url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestDb {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl TestDb {
    /// Runs `sql` on the database directly, bypassing the store.
    pub async fn raw(&self, sql: &str) {
        use sqlx::Connection;
        if let Some(schema) = &self.schema {
            let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
            sqlx::query(&format!("SET search_path TO {schema}"))
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        } else {
            let mut conn = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
            sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        }
    }
}

/// A new, empty store: `sqlite` in a temporary file or `postgres` in a new schema.
pub async fn open(backend: &str) -> TestDb {
    let (url, schema, dir) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", dir.path().join("pa.db").display());
            (url, None, Some(dir))
        }
        "postgres" => {
            let schema = unique_schema();
            (format!("{}?schema={schema}", postgres_url()), Some(schema), None)
        }
        other => panic!("unknown backend {other}"),
    };
    let store = Store::open(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    assert_eq!(store.backend(), backend);
    TestDb {
        store,
        url,
        schema,
        _dir: dir,
    }
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
