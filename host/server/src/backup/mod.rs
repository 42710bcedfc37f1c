//! `pa backup create|verify|restore`: one file holding a consistent snapshot
//! of the database, every blob and the platform secret key (when it is kept
//! in the data folder), with a manifest of SHA-256 sums. The compiled-code
//! cache is left out: it is rebuilt.

mod archive;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use pa_store::backup::{self as snapshots, SnapshotInfo};

use archive::{BLOBS, SECRET_KEY};
pub use archive::{FileSum, Manifest};

use crate::platform::{blob_store, resolve_database_url};

/// Where a platform keeps its data: the data folder and the database URL
/// (`None`: the SQLite file in the folder), as `pa serve` takes them.
pub struct Location<'a> {
    /// The data folder.
    pub data_dir: &'a Path,
    /// The database URL, if not the default.
    pub database_url: Option<String>,
    /// The blob bucket or folder URL, if not the data folder's.
    pub blob_url: Option<String>,
}

impl Location<'_> {
    fn url(&self) -> String {
        resolve_database_url(self.data_dir, self.database_url.clone())
    }
}

/// A backup just written.
pub struct Created {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its size in bytes.
    pub size: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Writes a backup of the platform at `from` to the new file `out` while the
/// platform may be running: the database snapshot first, then the blobs
/// (which are written before the rows that name them and never change).
/// Encrypted when `passphrase` is given. `out` appears only when complete.
pub async fn create(from: Location<'_>, out: &Path, passphrase: Option<&str>) -> anyhow::Result<Created> {
    let started = Instant::now();
    if out.exists() {
        bail!("{} exists: give a new file", out.display());
    }
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let work = tempfile::Builder::new()
        .prefix(".pa-backup-")
        .tempdir_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let snapshot = work.path().join("database");
    let database = snapshots::snapshot(&from.url(), &snapshot).await?;
    let blobs = blob_store(from.data_dir, from.blob_url.as_deref())?;
    let names = blobs.list().await.context("cannot list the blobs")?;
    let present: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    if let Some(missing) = database.blobs.iter().find(|b| !present.contains(b.as_str())) {
        bail!("the database references blob {missing}, which the blob store lacks: the platform's data is damaged");
    }
    let partial = work.path().join("archive");
    let mut writer = archive::Writer::create(&partial, passphrase)?;
    writer.add_file(snapshots::snapshot_file_name(&database.backend)?, &snapshot)?;
    for name in &names {
        let bytes = blobs
            .get(name)
            .await
            .with_context(|| format!("cannot read blob {name}"))?;
        if pa_runtime::digest(&bytes) != *name {
            bail!("blob {name} does not hash to its name: the blob store is damaged");
        }
        writer.add(&format!("{BLOBS}{name}"), &bytes)?;
    }
    let secret = crate::auth::secret_key_path(from.data_dir);
    if let Ok(bytes) = std::fs::read(&secret) {
        writer.add(SECRET_KEY, &bytes)?;
    }
    let manifest = writer.finish(Manifest {
        format: archive::FORMAT,
        pa_version: env!("CARGO_PKG_VERSION").into(),
        created_at: pa_store::now(),
        database,
        files: Default::default(),
    })?;
    let size = std::fs::metadata(&partial)?.len();
    std::fs::rename(&partial, out).with_context(|| format!("cannot create {}", out.display()))?;
    Ok(Created {
        manifest,
        size,
        elapsed: started.elapsed(),
    })
}

/// A backup read back and checked in full.
pub struct Verified {
    /// Its manifest.
    pub manifest: Manifest,
    /// Whether it was encrypted.
    pub encrypted: bool,
}

/// Unpacks the backup `file` into `into` and checks it: every entry's SHA-256
/// and size against the manifest (nothing missing, nothing extra), every blob
/// against its name, the database snapshot intact and as described, and
/// every blob its rows reference present.
async fn unpack_checked(file: &Path, passphrase: Option<&str>, into: &Path) -> anyhow::Result<Verified> {
    let (file_owned, passphrase, into_owned) = (file.to_path_buf(), passphrase.map(str::to_owned), into.to_path_buf());
    let unpacked =
        tokio::task::spawn_blocking(move || archive::unpack(&file_owned, passphrase.as_deref(), &into_owned)).await??;
    let shown = file.display();
    let Some(manifest) = unpacked.manifest else {
        bail!("{shown} has no manifest: it is incomplete or not a backup");
    };
    for (path, expected) in &manifest.files {
        match unpacked.files.get(path) {
            None => bail!("{shown} lacks `{path}`, which its manifest lists"),
            Some(found) if found != expected => bail!(
                "`{path}` in {shown} does not match its manifest (SHA-256 {} of {} bytes, expected {} of {} bytes): the backup is damaged or was tampered with",
                found.sha256,
                found.size,
                expected.sha256,
                expected.size
            ),
            Some(_) => {}
        }
    }
    if let Some(extra) = unpacked.files.keys().find(|p| !manifest.files.contains_key(*p)) {
        bail!("{shown} holds `{extra}`, which its manifest does not list");
    }
    for (name, sum) in manifest.blobs() {
        if sum.sha256 != name {
            bail!(
                "blob {name} in {shown} hashes to {}: the backup was tampered with",
                sum.sha256
            );
        }
    }
    let db_name = snapshots::snapshot_file_name(&manifest.database.backend)?;
    if !manifest.files.contains_key(db_name) {
        bail!("{shown} holds no {db_name}");
    }
    let found = snapshots::inspect(&manifest.database.backend, &into.join(db_name))
        .await
        .with_context(|| format!("the database snapshot in {shown}"))?;
    let described = &manifest.database;
    if (&found.schema, found.migration, &found.tables) != (&described.schema, described.migration, &described.tables) {
        bail!(
            "the database snapshot in {shown} is not the one its manifest describes: found {found:?}, described {described:?}"
        );
    }
    let archived: BTreeSet<&str> = manifest.blobs().map(|(name, _)| name).collect();
    if let Some(missing) = found.blobs.iter().find(|b| !archived.contains(b.as_str())) {
        bail!("the database in {shown} references blob {missing}, which the backup lacks");
    }
    Ok(Verified {
        manifest,
        encrypted: unpacked.encrypted,
    })
}

/// Reads the backup `file` in full and checks everything in it (see
/// [`create`]); the unpacked copy goes to a temporary folder beside it. With
/// a `target`, also checks that the backup could be restored there (see
/// [`restore`]), writing nothing.
pub async fn verify(file: &Path, passphrase: Option<&str>, target: Option<Location<'_>>) -> anyhow::Result<Verified> {
    if let Some(to) = &target {
        check_data_dir(to.data_dir)?;
    }
    let folder = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".pa-verify-")
        .tempdir_in(folder)
        .or_else(|_| tempfile::tempdir())?;
    let verified = unpack_checked(file, passphrase, work.path()).await?;
    if let Some(to) = &target {
        snapshots::check_target(&to.url(), &verified.manifest.database).await?;
    }
    Ok(verified)
}

/// Refuses a data folder that exists and holds anything.
fn check_data_dir(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: restore into an empty or new data folder",
                dir.display()
            );
        }
    }
    Ok(())
}

/// A backup restored.
pub struct Restored {
    /// Its manifest.
    pub manifest: Manifest,
    /// How long the restore took.
    pub elapsed: Duration,
}

/// Restores the backup `file` into `to`: the data folder must be empty or
/// missing and the database must hold no tables (see
/// [`snapshots::check_target`]). The backup is checked in full (as by
/// [`verify`]) before anything is written.
pub async fn restore(file: &Path, passphrase: Option<&str>, to: Location<'_>) -> anyhow::Result<Restored> {
    let started = Instant::now();
    let dir = to.data_dir;
    check_data_dir(dir)?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let work = tempfile::Builder::new().prefix(".restore-").tempdir_in(dir)?;
    let Verified { manifest, .. } = unpack_checked(file, passphrase, work.path()).await?;
    let db_name = snapshots::snapshot_file_name(&manifest.database.backend)?;
    snapshots::restore(&to.url(), &work.path().join(db_name), &manifest.database).await?;
    let blobs = blob_store(dir, to.blob_url.as_deref())?;
    for (name, _) in manifest.blobs() {
        let bytes = tokio::fs::read(work.path().join(BLOBS).join(name)).await?;
        blobs.put(name, &bytes).await?;
    }
    if manifest.files.contains_key(SECRET_KEY) {
        crate::auth::write_secret_key(dir, &std::fs::read(work.path().join(SECRET_KEY))?)?;
    }
    Ok(Restored {
        manifest,
        elapsed: started.elapsed(),
    })
}

/// What a snapshot describes, for callers printing a summary.
pub fn describe(database: &SnapshotInfo) -> String {
    let schema = database
        .schema
        .as_ref()
        .map(|s| format!(" schema {s},"))
        .unwrap_or_default();
    format!(
        "{}{schema} migration {}, {} rows in {} tables",
        database.backend,
        database.migration,
        database.tables.values().sum::<u64>(),
        database.tables.len()
    )
}
