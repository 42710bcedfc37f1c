//! Persistence: tenants, users, roles, API keys, the audit log, plugin
//! versions, deployments and key-value data in SQLite or PostgreSQL (sqlx, with migrations per backend), and
//! component blobs in a folder or an S3-compatible bucket; changes other
//! nodes make, heard through PostgreSQL's `LISTEN/NOTIFY`.
#![deny(missing_docs)]

mod audit;
pub mod backup;
mod billing;
mod blobs;
mod capabilities;
mod changes;
mod db;
mod idp;
mod keys;
mod kv;
mod plugins;
mod sessions;
mod tasks;
mod teams;
mod tenants;
mod users;
mod workflows;

pub use audit::{AuditQuery, AuditRecord, ChainReport, NewAudit};
pub use billing::{Plan, PluginUsage};
pub use blobs::{Blobs, is_sha256};
pub use capabilities::{ModelProvider, Site, SiteVersion};
pub use changes::{Change, Changes};
pub use db::{format_time, now};
pub use idp::{IdentityProvider, OidcLogin};
pub use keys::{KeyInfo, NewKey};
pub use plugins::{Deployment, PluginVersion, PutOutcome};
pub use sessions::Refresh;
pub use tasks::{TaskRecord, TaskState};
pub use teams::Team;
pub use tenants::Tenant;
pub use users::{CustomRole, Membership, User};
pub use workflows::{Claim, Run, RunChange, RunSnapshot, StepLogLine, StepRow, StoredWorkflow, Transition};

/// The platform's database: SQLite or PostgreSQL, chosen by the URL it is opened with.
#[derive(Clone)]
pub struct Store {
    pool: db::Pool,
    /// SQLite's connection for the writing transactions on hot paths
    /// (workflow steps), taken when first needed; see [`db::on_writer`].
    sqlite_writer: std::sync::Arc<tokio::sync::Mutex<Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>>>,
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH`, created if missing, or
    /// `postgres://…[?schema=NAME]`) and migrates it.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Ok(Store {
            pool: db::Pool::open(url).await?,
            sqlite_writer: Default::default(),
        })
    }

    /// Which backend this is: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self.pool {
            db::Pool::Sqlite(_) => "sqlite",
            db::Pool::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        db::on_pool!(self, |pool| sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }
}

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
    /// The row exists already (e.g. a username).
    #[error("{0}")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The database URL or options are not usable.
    #[error("{0}")]
    Config(String),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A backup could not be taken, read or restored.
    #[error("{0}")]
    Backup(String),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}
