//! Database snapshots for `pa backup`: a consistent copy taken while the
//! platform runs (SQLite `VACUUM INTO`, PostgreSQL `pg_dump` in one exported
//! snapshot), its inspection, and its restore into an empty database.

mod postgres;
mod sqlite;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::db::{DatabaseUrl, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// What a database snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The PostgreSQL schema it was taken from; `None` for SQLite.
    pub schema: Option<String>,
    /// The newest migration applied to it.
    pub migration: i64,
    /// Rows of every table, by table name.
    pub tables: BTreeMap<String, u64>,
    /// The blobs (SHA-256) its rows reference: plugin versions' components
    /// and site versions' files.
    #[serde(skip)]
    pub blobs: BTreeSet<String>,
}

/// The name of a `backend`'s snapshot file inside a backup.
pub fn snapshot_file_name(backend: &str) -> Result<&'static str, StoreError> {
    match backend {
        "sqlite" => Ok("database.sqlite"),
        "postgres" => Ok("database.pgdump"),
        other => Err(StoreError::Config(format!("unknown backend `{other}`"))),
    }
}

/// The newest migration this build knows for `backend`.
fn latest_migration(backend: &str) -> i64 {
    let migrator = if backend == "sqlite" {
        &SQLITE_MIGRATIONS
    } else {
        &POSTGRES_MIGRATIONS
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Writes a consistent snapshot of the database at `url` to `out` (a file
/// that must not exist yet) while the platform may be writing to it, and
/// describes it. The database is neither created nor migrated.
pub async fn snapshot(url: &str, out: &Path) -> Result<SnapshotInfo, StoreError> {
    let info = match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(url) => sqlite::snapshot(&url, out).await?,
        DatabaseUrl::Postgres { url, schema } => postgres::snapshot(&url, schema, out).await?,
    };
    let latest = latest_migration(&info.backend);
    if info.migration != latest {
        return Err(StoreError::Backup(format!(
            "the database is at migration {}, this pa is at {latest}: back it up with the pa version that serves it",
            info.migration
        )));
    }
    Ok(info)
}

/// Checks a `backend` snapshot file is intact (SQLite: `PRAGMA
/// integrity_check`; PostgreSQL: `pg_restore` reads all of it) and describes it.
pub async fn inspect(backend: &str, file: &Path) -> Result<SnapshotInfo, StoreError> {
    match backend {
        "sqlite" => sqlite::inspect(file).await,
        "postgres" => postgres::inspect(file).await,
        other => Err(StoreError::Config(format!("unknown backend `{other}`"))),
    }
}

/// Checks, writing nothing, that the snapshot `info` can be restored into
/// the database at `url`: a migration this build knows, the same backend
/// (and PostgreSQL schema), and no database there yet.
pub async fn check_target(url: &str, info: &SnapshotInfo) -> Result<(), StoreError> {
    let latest = latest_migration(&info.backend);
    if info.migration > latest {
        return Err(StoreError::Backup(format!(
            "the backup is at migration {}, newer than this pa's {latest}: restore it with a newer pa",
            info.migration
        )));
    }
    match (DatabaseUrl::parse(url)?, info.backend.as_str()) {
        (DatabaseUrl::Sqlite(url), "sqlite") => sqlite::check_target(&url),
        (DatabaseUrl::Postgres { url, schema }, "postgres") => {
            postgres::check_target(&url, schema.as_deref(), info.schema.as_deref()).await
        }
        (_, backend) => Err(StoreError::Backup(format!(
            "the backup is of a {backend} database and cannot be restored into `{url}`"
        ))),
    }
}

/// Restores the snapshot `file` described by `info` into the database at
/// `url`, which must pass [`check_target`]. The database is then at the
/// snapshot's migration, or migrated forward if that is older than this
/// build's.
pub async fn restore(url: &str, file: &Path, info: &SnapshotInfo) -> Result<(), StoreError> {
    check_target(url, info).await?;
    match DatabaseUrl::parse(url)? {
        DatabaseUrl::Sqlite(url) => sqlite::restore(&url, file).await?,
        DatabaseUrl::Postgres { url, schema } => postgres::restore(&url, schema.as_deref(), file).await?,
    }
    crate::Store::open(url).await?;
    Ok(())
}

/// The blobs referenced by a site version's `files` (JSON path → SHA-256).
fn site_blobs(files: &str, into: &mut BTreeSet<String>) -> Result<(), StoreError> {
    let files: BTreeMap<String, String> = serde_json::from_str(files)
        .map_err(|e| StoreError::Backup(format!("a site version's files are not a JSON object of digests: {e}")))?;
    into.extend(files.into_values());
    Ok(())
}
