//! The database connection: SQLite (embedded default) or PostgreSQL, chosen by URL.
//!
//! Both backends run the same portable SQL (`$n` parameters, `ON CONFLICT`,
//! timestamps bound from Rust) on their native sqlx driver; each has its own
//! migrations under `migrations/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Executor, PgPool, SqlitePool};

use crate::StoreError;

/// A pool of one backend.
#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's native pool; the body is
/// compiled once per backend, so it must be portable SQL.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite($pool) => $body,
            $crate::db::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Runs `$body` (an expression of type `Result<_, StoreError>`) with `$conn`
/// a connection for a hot writing transaction (workflow steps). On SQLite it
/// is the store's one writer connection, held while the body runs: writers
/// queue in-process instead of in SQLite's sleeping busy handler, and its
/// page cache stays warm from one transaction to the next (a connection's
/// cache is dropped whenever another one wrote). A database failure lets it
/// go (the next body takes a fresh one). On PostgreSQL, whose writers lock
/// rows, it is one of the pool.
macro_rules! on_writer {
    ($store:expr, |$conn:ident| $body:expr) => {
        match &$store.pool {
            $crate::db::Pool::Sqlite(pool) => {
                let mut writer = $store.sqlite_writer.lock().await;
                if writer.is_none() {
                    *writer = Some(pool.acquire().await?);
                }
                let $conn: &mut sqlx::SqliteConnection = &mut **writer.as_mut().expect("taken above");
                let result = async { $body }.await;
                if matches!(result, Err($crate::StoreError::Database(_))) {
                    *writer = None;
                }
                result
            }
            $crate::db::Pool::Postgres(pool) => {
                let mut held = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut held;
                async { $body }.await
            }
        }
    };
}
pub(crate) use on_writer;

/// How a transaction that writes begins on the connection of
/// [`on_writer`]'s body (see [`begin_write`]).
pub(crate) fn begin_write_on<C: sqlx::Connection>(_: &C) -> &'static str
where
    C::Database: WriteStart,
{
    <C::Database as WriteStart>::BEGIN
}

/// How a transaction that writes begins: SQLite takes the write lock at once
/// (a deferred transaction can fail to upgrade its lock under concurrency);
/// PostgreSQL locks rows as it goes.
pub(crate) fn begin_write<DB: WriteStart>(_: &sqlx::Pool<DB>) -> &'static str {
    DB::BEGIN
}

/// The statement that begins a writing transaction on a backend.
pub(crate) trait WriteStart: sqlx::Database {
    const BEGIN: &'static str;
}

impl WriteStart for sqlx::Sqlite {
    const BEGIN: &'static str = "BEGIN IMMEDIATE";
}

impl WriteStart for sqlx::Postgres {
    const BEGIN: &'static str = "BEGIN";
}

/// The current time as stored in every `*_at` column.
pub fn now() -> String {
    format_time(time::OffsetDateTime::now_utc())
}

/// A time as stored: RFC 3339 in UTC with milliseconds, so text order is time order.
pub fn format_time(at: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::BorrowedFormatItem<'_>] =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .expect("a UTC time formats")
}

/// The SQLite migrations of this build.
pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
/// The PostgreSQL migrations of this build.
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A database URL taken apart.
pub(crate) enum DatabaseUrl {
    /// `sqlite://PATH…`.
    Sqlite(String),
    /// `postgres://…`: the connection URL without our `schema=` parameter, and that schema.
    Postgres { url: String, schema: Option<String> },
}

impl DatabaseUrl {
    /// Parses `url`: `sqlite://path` or `postgres://…[?schema=NAME]`.
    pub(crate) fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let (url, schema) = split_schema(url)?;
            Ok(DatabaseUrl::Postgres { url, schema })
        } else if url.starts_with("sqlite:") {
            Ok(DatabaseUrl::Sqlite(url.to_string()))
        } else {
            Err(StoreError::Config(format!(
                "unsupported database URL `{url}`: use sqlite://PATH or postgres://…"
            )))
        }
    }
}

impl Pool {
    /// Connects to `url` and migrates: `sqlite://path` (created if missing) or
    /// `postgres://…`. A PostgreSQL URL may carry `schema=NAME`: the schema is
    /// created if missing and every connection uses it (tests, shared databases).
    pub async fn open(url: &str) -> Result<Pool, StoreError> {
        let pool = Self::connect(url).await?;
        match &pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(pool)
    }

    /// Connects to `url` like [`Pool::open`], without migrating.
    pub(crate) async fn connect(url: &str) -> Result<Pool, StoreError> {
        match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(url) => Self::connect_sqlite(&url).await,
            DatabaseUrl::Postgres { url, schema } => Self::connect_postgres(&url, schema).await,
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Pool, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL survives any process crash and keeps the file
            // consistent on power loss (the last commits may be lost then).
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection to a local file does not go stale: no ping per acquire.
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Pool::Sqlite(pool))
    }

    async fn connect_postgres(url: &str, schema: Option<String>) -> Result<Pool, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let mut pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10));
        if let Some(schema) = schema {
            let setup = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            setup
                .execute(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"").as_str())
                .await?;
            setup.close().await;
            pool = pool.after_connect(move |conn, _| {
                let set = format!("SET search_path TO \"{schema}\"");
                Box::pin(async move {
                    conn.execute(set.as_str()).await?;
                    Ok(())
                })
            });
        }
        Ok(Pool::Postgres(pool.connect_with(options).await?))
    }
}

/// Takes our own `schema=NAME` parameter out of a PostgreSQL URL.
fn split_schema(url: &str) -> Result<(String, Option<String>), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_string(), None));
    };
    let mut schema = None;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.strip_prefix("schema=") {
            Some(name) => schema = Some(name.to_string()),
            None => rest.push(pair),
        }
    }
    if let Some(name) = &schema {
        let valid = !name.is_empty() && name.len() <= 63 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(StoreError::Config(format!(
                "invalid schema `{name}`: use up to 63 letters, digits or `_`"
            )));
        }
    }
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, schema))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_taken_out_of_the_url() {
        let (url, schema) = split_schema("postgres://h/test?schema=t_1&sslmode=disable").unwrap();
        assert_eq!(url, "postgres://h/test?sslmode=disable");
        assert_eq!(schema.as_deref(), Some("t_1"));
        assert!(split_schema("postgres://h/test?schema=a;drop").is_err());
        assert_eq!(split_schema("postgres://h/test").unwrap().1, None);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_millis() {
        let t = now();
        assert_eq!(t.len(), "2026-01-01T00:00:00.000Z".len(), "{t}");
        assert!(t.ends_with('Z'));
    }
}
