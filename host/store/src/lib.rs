//! Persistence: tenants, API keys, plugin versions, deployments and key-value
//! data in SQLite (sqlx, with migrations), and component blobs on disk.
#![deny(missing_docs)]

mod blobs;
mod sqlite;

pub use blobs::Blobs;
pub use sqlite::{Deployment, KeyInfo, PluginVersion, PutOutcome, Store};

/// A store failure a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The version exists with different bytes (versions are immutable).
    #[error("version {version} of plugin {name} already exists with different content (sha256 {existing})")]
    VersionConflict {
        /// Plugin name.
        name: String,
        /// Version.
        version: String,
        /// SHA-256 of the stored bytes.
        existing: String,
    },
    /// A referenced row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
