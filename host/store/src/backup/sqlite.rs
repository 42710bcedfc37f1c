//! SQLite snapshots: `VACUUM INTO` a new file (one read transaction, so
//! consistent while `pa serve` writes), checked with `PRAGMA integrity_check`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::{SnapshotInfo, site_blobs};
use crate::StoreError;

fn damaged(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(format!("the SQLite snapshot cannot be read: {e}"))
}

pub(super) async fn snapshot(url: &str, out: &Path) -> Result<SnapshotInfo, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(5));
    let path = options.get_filename();
    if !path.exists() {
        return Err(StoreError::Backup(format!(
            "there is no SQLite database at {}",
            path.display()
        )));
    }
    let out_text = out
        .to_str()
        .ok_or_else(|| StoreError::Backup(format!("{} is not a UTF-8 path", out.display())))?;
    let mut conn = options.connect().await?;
    sqlx::query("VACUUM INTO $1").bind(out_text).execute(&mut conn).await?;
    conn.close().await?;
    inspect(out).await
}

pub(super) async fn inspect(file: &Path) -> Result<SnapshotInfo, StoreError> {
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true)
        .connect()
        .await
        .map_err(damaged)?;
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(damaged)?;
    if problems != ["ok"] {
        return Err(damaged(problems.join("; ")));
    }
    let info = describe(&mut conn).await.map_err(damaged);
    conn.close().await?;
    info
}

async fn describe(conn: &mut SqliteConnection) -> Result<SnapshotInfo, StoreError> {
    let migration: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await?;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(&mut *conn)
        .await?;
    let mut tables = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT COUNT(*) FROM \"{}\"", name.replace('"', "\"\""));
        let rows: i64 = sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?;
        tables.insert(name, rows as u64);
    }
    let mut blobs: BTreeSet<String> = sqlx::query_scalar("SELECT sha256 FROM plugin_versions")
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
    let files: Vec<String> = sqlx::query_scalar("SELECT files FROM site_versions")
        .fetch_all(&mut *conn)
        .await?;
    for files in files {
        site_blobs(&files, &mut blobs)?;
    }
    Ok(SnapshotInfo {
        backend: "sqlite".into(),
        schema: None,
        migration,
        tables,
        blobs,
    })
}

/// Refuses a target where a database file (or its write-ahead log) exists.
pub(super) fn check_target(url: &str) -> Result<(), StoreError> {
    let path = SqliteConnectOptions::from_str(url)?.get_filename().to_path_buf();
    let wal = path.with_file_name(format!(
        "{}-wal",
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    for existing in [&path, &wal] {
        if existing.exists() {
            return Err(StoreError::Backup(format!(
                "{} exists: restore into a place without a database",
                existing.display()
            )));
        }
    }
    Ok(())
}

/// Copies a checked snapshot into place (whole, through a renamed temporary file).
pub(super) async fn restore(url: &str, file: &Path) -> Result<(), StoreError> {
    let path = SqliteConnectOptions::from_str(url)?.get_filename().to_path_buf();
    let io = |e: std::io::Error| StoreError::Backup(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent).await.map_err(io)?;
    }
    let tmp = path.with_file_name(format!(".restore-{}.tmp", std::process::id()));
    tokio::fs::copy(file, &tmp).await.map_err(io)?;
    tokio::fs::File::open(&tmp)
        .await
        .map_err(io)?
        .sync_all()
        .await
        .map_err(io)?;
    tokio::fs::rename(&tmp, &path).await.map_err(io)
}
