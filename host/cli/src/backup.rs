//! `pa backup create|verify|restore`: backups of a platform's data folder and database.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use pa_server::backup::{self, Location};

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: BackupCommand,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Write the database, blobs and secret key to a new backup file (safe while `pa serve` runs).
    Create {
        /// The backup file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        key: PassphraseArgs,
    },
    /// Check a backup in full: every SHA-256, the database snapshot, the blobs it
    /// references; with `--data-dir`, also that it could be restored there (nothing is written).
    Verify {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        key: PassphraseArgs,
    },
    /// Restore a backup into an empty data folder and an empty database.
    Restore {
        /// The backup file.
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        key: PassphraseArgs,
    },
}

/// Where the platform's data is: `pa serve` and `pa backup` take the same flags.
#[derive(clap::Args)]
pub struct DataArgs {
    /// Folder for the database, blobs, compiled code and secret key.
    #[arg(long, env = "PA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…[?schema=NAME]`); defaults to a
    /// SQLite file in the data folder.
    #[arg(long, env = "PA_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where component and site bytes are kept: `s3://BUCKET[/PREFIX]` (S3 or
    /// MinIO, configured by the standard `AWS_*` variables) or
    /// `file:///FOLDER`; the `blobs` folder of the data folder when unset.
    #[arg(long, env = "PA_BLOB_URL")]
    pub blob_url: Option<String>,
}

/// Where `verify` checks that a backup could be restored: the same place
/// `restore` would take, read only (no environment variables, so a shell
/// set up for `pa serve` does not turn every verify into a restore check).
#[derive(clap::Args)]
struct TargetArgs {
    /// Also check that the backup could be restored into this data folder
    /// (empty or missing) and its database.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The database it would be restored into (`sqlite://…` or
    /// `postgres://…[?schema=NAME]`); defaults to a SQLite file in the data folder.
    #[arg(long, requires = "data_dir")]
    database_url: Option<String>,
}

/// The passphrase of an encrypted backup.
#[derive(clap::Args)]
struct PassphraseArgs {
    /// A file holding the passphrase (its first line); `PA_BACKUP_PASSPHRASE` is read
    /// when this is not given. Without either, `create` writes an unencrypted backup.
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

impl PassphraseArgs {
    fn passphrase(&self) -> anyhow::Result<Option<String>> {
        let passphrase = match &self.passphrase_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
                Some(text.lines().next().unwrap_or_default().to_string())
            }
            None => std::env::var("PA_BACKUP_PASSPHRASE").ok(),
        };
        if passphrase.as_deref() == Some("") {
            bail!("the backup passphrase is empty");
        }
        Ok(passphrase)
    }
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    match args.command {
        BackupCommand::Create { out, data, key } => {
            let passphrase = key.passphrase()?;
            let location = Location {
                data_dir: &data.data_dir,
                database_url: data.database_url,
                blob_url: data.blob_url,
            };
            let created = backup::create(location, &out, passphrase.as_deref()).await?;
            let manifest = &created.manifest;
            println!(
                "wrote {}: {} bytes, {}, {} blobs, {}, {:.2} s",
                out.display(),
                created.size,
                backup::describe(&manifest.database),
                manifest.blobs().count(),
                if passphrase.is_some() {
                    "encrypted"
                } else {
                    "not encrypted"
                },
                created.elapsed.as_secs_f64()
            );
            if passphrase.is_none() && manifest.files.contains_key("secret.key") {
                eprintln!(
                    "note: the backup holds the platform secret key; keep it as safe as the key, or encrypt it (PA_BACKUP_PASSPHRASE)"
                );
            }
        }
        BackupCommand::Verify { file, target, key } => {
            let location = target.data_dir.as_deref().map(|data_dir| Location {
                data_dir,
                database_url: target.database_url.clone(),
                blob_url: None,
            });
            let verified = backup::verify(&file, key.passphrase()?.as_deref(), location).await?;
            let manifest = &verified.manifest;
            println!(
                "{}: intact; {}, {} blobs, {}created {} by pa {}",
                file.display(),
                backup::describe(&manifest.database),
                manifest.blobs().count(),
                if verified.encrypted { "encrypted, " } else { "" },
                manifest.created_at,
                manifest.pa_version
            );
            if let Some(data_dir) = &target.data_dir {
                println!("it can be restored into {}", data_dir.display());
            }
        }
        BackupCommand::Restore { file, data, key } => {
            let location = Location {
                data_dir: &data.data_dir,
                database_url: data.database_url,
                blob_url: data.blob_url,
            };
            let restored = backup::restore(&file, key.passphrase()?.as_deref(), location).await?;
            let manifest = &restored.manifest;
            println!(
                "restored {} into {}: {}, {} blobs in {:.2} s",
                file.display(),
                data.data_dir.display(),
                backup::describe(&manifest.database),
                manifest.blobs().count(),
                restored.elapsed.as_secs_f64()
            );
        }
    }
    Ok(())
}
