//! The platform on either store backend, and stories declared for both.

use std::process::Command;

use crate::support::{ADMIN, Api, Pa, pa_bin, postgres_url, unique_name};

/// The platform secret of every backend story's platform.
pub const SECRET: &str = "an e2e platform secret of at least 32 characters";

/// Where a story keeps its data.
#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A platform on `backend`, with its data folder and database URL.
pub struct Platform {
    pub pa: Pa,
    pub dir: tempfile::TempDir,
    database_url: Option<String>,
    schema: Option<String>,
}

impl Platform {
    pub fn start(backend: Backend) -> Platform {
        Self::start_with(backend, &[])
    }

    /// A platform on `backend` whose first node gets `extra` flags.
    pub fn start_with(backend: Backend, extra: &[&str]) -> Platform {
        let (dir, database_url, schema) = new_place(backend);
        Self::serve_on(dir, database_url, schema, extra)
    }

    /// A platform on an existing data folder and database (`None`: SQLite in the folder).
    pub fn serve_on(
        dir: tempfile::TempDir,
        database_url: Option<String>,
        schema: Option<String>,
        extra: &[&str],
    ) -> Platform {
        let mut args = vec!["serve", "--data-dir", dir.path().to_str().unwrap()];
        if let Some(url) = &database_url {
            args.extend(["--database-url", url]);
        }
        args.extend_from_slice(extra);
        let pa = Pa::start(&args, &[("PA_ADMIN_TOKEN", ADMIN), ("PA_SECRET_KEY", SECRET)]);
        Platform {
            pa,
            dir,
            database_url,
            schema,
        }
    }

    /// The database URL given to `pa` (`None`: SQLite in the data folder).
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// The PostgreSQL schema of the platform (`None` on SQLite).
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Another `pa serve` on the same data folder and database, with `extra` flags.
    pub fn node(&self, extra: &[&str]) -> Pa {
        let mut args = vec!["serve", "--data-dir", self.dir.path().to_str().unwrap()];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url", url]);
        }
        args.extend_from_slice(extra);
        Pa::start(&args, &[("PA_ADMIN_TOKEN", ADMIN), ("PA_SECRET_KEY", SECRET)])
    }

    /// Stops the node with SIGTERM and returns how it exited.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.pa.terminate()
    }

    /// Starts a new node in place of a stopped one.
    pub fn restart(&mut self, extra: &[&str]) {
        self.pa = self.node(extra);
    }

    /// Kills the node with SIGKILL, as a crash would, and starts a new one.
    pub fn crash_and_restart(&mut self, extra: &[&str]) {
        self.pa.kill();
        self.pa = self.node(extra);
    }

    pub fn api(&self, token: &str) -> Api {
        Api::new(&self.pa, token)
    }

    /// `pa audit verify` against this platform's data.
    pub fn verify(&self, tenant: Option<&str>) -> (bool, String) {
        let mut cmd = Command::new(pa_bin());
        cmd.args(["audit", "verify", "--data-dir", self.dir.path().to_str().unwrap()])
            .env("PA_SECRET_KEY", SECRET);
        if let Some(url) = &self.database_url {
            cmd.args(["--database-url", url]);
        }
        if let Some(t) = tenant {
            cmd.args(["--tenant", t]);
        }
        let out = cmd.output().unwrap();
        crate::support::outcome(&out)
    }

    /// Runs `sql` on the database behind the platform's back, as an attacker would.
    pub async fn tamper(&self, sql: &str) {
        use sqlx::Connection;
        match &self.schema {
            Some(schema) => {
                let mut conn = sqlx::PgConnection::connect(&postgres_url()).await.unwrap();
                sqlx::query(&format!("SET search_path TO {schema}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
            None => {
                let url = format!("sqlite://{}", self.dir.path().join("pa.db").display());
                let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
            }
        }
    }
}

/// A new, empty place for a platform's data on `backend`: a data folder and,
/// on PostgreSQL, a database URL with a schema of its own.
pub fn new_place(backend: Backend) -> (tempfile::TempDir, Option<String>, Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => (dir, None, None),
        Backend::Postgres => {
            let schema = unique_name("pa_e2e");
            (dir, Some(format!("{}?schema={schema}", postgres_url())), Some(schema))
        }
    }
}

/// Declares one test per backend for a story `async fn(Backend)`.
macro_rules! on_both_backends_ {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $story() {
                super::$story(super::Backend::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $story() {
                super::$story(super::Backend::Postgres).await
            })*
        }
    };
}

pub(crate) use on_both_backends_ as on_both_backends;
