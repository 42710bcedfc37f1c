//! The backup file: a tar archive, zstd-compressed, optionally encrypted
//! with a passphrase (age, scrypt). `manifest.json` comes last and lists the
//! SHA-256 and size of every other entry.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use age::secrecy::SecretString;
use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use pa_store::backup::SnapshotInfo;

/// The format of the archives this build writes and reads.
pub const FORMAT: u32 = 1;
/// The first bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The name of the manifest entry.
const MANIFEST: &str = "manifest.json";
/// The name of the platform secret's entry.
pub const SECRET_KEY: &str = "secret.key";
/// The folder of the blobs' entries.
pub const BLOBS: &str = "blobs/";

/// What a backup holds, stored as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Archive format ([`FORMAT`]).
    pub format: u32,
    /// The `pa` version that wrote it.
    pub pa_version: String,
    /// When it was written (RFC 3339, UTC).
    pub created_at: String,
    /// The database snapshot: backend, schema, migration, rows per table.
    pub database: SnapshotInfo,
    /// Every other entry by path: its SHA-256 and size.
    pub files: BTreeMap<String, FileSum>,
}

/// The SHA-256 and size of an archive entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    /// SHA-256 in lowercase hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

impl Manifest {
    /// Rows of all tables together.
    pub fn rows(&self) -> u64 {
        self.database.tables.values().sum()
    }

    /// The blobs' entries.
    pub fn blobs(&self) -> impl Iterator<Item = (&str, &FileSum)> {
        self.files
            .iter()
            .filter_map(|(path, sum)| Some((path.strip_prefix(BLOBS)?, sum)))
    }
}

/// Where the compressed stream goes: the file, or age's encrypting stream to it.
enum Sink {
    Plain(BufWriter<File>),
    Encrypted(age::stream::StreamWriter<BufWriter<File>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Encrypted(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Encrypted(w) => w.flush(),
        }
    }
}

/// Writes a new archive, entry by entry, summing each.
pub struct Writer {
    tar: tar::Builder<zstd::Encoder<'static, Sink>>,
    files: BTreeMap<String, FileSum>,
}

impl Writer {
    /// Starts an archive in the new file `path`, encrypted when a passphrase is given.
    pub fn create(path: &Path, passphrase: Option<&str>) -> anyhow::Result<Writer> {
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let out = BufWriter::with_capacity(1 << 20, file);
        let sink = match passphrase {
            None => Sink::Plain(out),
            Some(passphrase) => Sink::Encrypted(
                age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_owned())).wrap_output(out)?,
            ),
        };
        let mut encoder = zstd::Encoder::new(sink, 3)?;
        encoder.include_checksum(true)?;
        Ok(Writer {
            tar: tar::Builder::new(encoder),
            files: BTreeMap::new(),
        })
    }

    /// Adds `bytes` as entry `path`.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> anyhow::Result<()> {
        self.append(path, bytes.len() as u64, bytes)
    }

    /// Adds the file `source` as entry `path`, streaming it.
    pub fn add_file(&mut self, path: &str, source: &Path) -> anyhow::Result<()> {
        let file = File::open(source).with_context(|| format!("cannot read {}", source.display()))?;
        let size = file.metadata()?.len();
        self.append(path, size, BufReader::new(file))
    }

    fn append(&mut self, path: &str, size: u64, data: impl Read) -> anyhow::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        let mut reader = Summing::new(data);
        self.tar.append_data(&mut header, path, &mut reader)?;
        let sum = reader.sum();
        if sum.size != size {
            bail!("{path} changed while it was archived");
        }
        self.files.insert(path.to_string(), sum);
        Ok(())
    }

    /// Adds the manifest (with the sums of every entry so far) and completes
    /// the file on disk; returns the manifest.
    pub fn finish(mut self, mut manifest: Manifest) -> anyhow::Result<Manifest> {
        manifest.files = std::mem::take(&mut self.files);
        let json = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar.append_data(&mut header, MANIFEST, json.as_slice())?;
        let out = match self.tar.into_inner()?.finish()? {
            Sink::Plain(out) => out,
            Sink::Encrypted(stream) => stream.finish()?,
        };
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok(manifest)
    }
}

/// A reader that sums what passes through it.
struct Summing<R> {
    inner: R,
    hash: Sha256,
    size: u64,
}

impl<R> Summing<R> {
    fn new(inner: R) -> Self {
        Summing {
            inner,
            hash: Sha256::new(),
            size: 0,
        }
    }

    fn sum(self) -> FileSum {
        FileSum {
            sha256: hex::encode(self.hash.finalize()),
            size: self.size,
        }
    }
}

impl<R: Read> Read for Summing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// An archive unpacked into a folder, before any check against its manifest.
pub struct Unpacked {
    /// The manifest, if the archive has one.
    pub manifest: Option<Manifest>,
    /// What each other entry's bytes sum to, by path.
    pub files: BTreeMap<String, FileSum>,
    /// Whether the archive was encrypted.
    pub encrypted: bool,
}

/// Whether `path` is an entry name a backup may hold.
fn allowed(path: &str) -> bool {
    matches!(path, MANIFEST | SECRET_KEY | "database.sqlite" | "database.pgdump")
        || path.strip_prefix(BLOBS).is_some_and(pa_store::is_sha256)
}

/// Decrypts (when needed), decompresses and unpacks the archive `path` into
/// the folder `into`, summing every entry. Fails on anything but a whole,
/// readable archive of known entries.
pub fn unpack(path: &Path, passphrase: Option<&str>, into: &Path) -> anyhow::Result<Unpacked> {
    let shown = path.display();
    let file = File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let mut input = BufReader::with_capacity(1 << 20, file);
    let encrypted = input.fill_buf()?.starts_with(b"age-encryption.org/");
    let plain: Box<dyn Read> = if encrypted {
        let Some(passphrase) = passphrase else {
            bail!("{shown} is encrypted: give its passphrase in PA_BACKUP_PASSPHRASE or with --passphrase-file");
        };
        let decryptor = age::Decryptor::new_buffered(input)
            .with_context(|| format!("{shown} is not a readable encrypted backup"))?;
        let identity = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
        let reader = decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => {
                    anyhow::anyhow!("wrong passphrase for {shown}")
                }
                other => anyhow::anyhow!("cannot decrypt {shown}: {other}"),
            })?;
        Box::new(reader)
    } else {
        Box::new(input)
    };
    let mut plain = BufReader::new(plain);
    if !plain
        .fill_buf()
        .with_context(|| format!("cannot read {shown}"))?
        .starts_with(&ZSTD_MAGIC)
    {
        bail!("{shown} is not a backup (neither zstd-compressed nor age-encrypted)");
    }
    let decoder = zstd::Decoder::with_buffer(plain)?;
    let mut archive = tar::Archive::new(decoder);
    let mut unpacked = Unpacked {
        manifest: None,
        files: BTreeMap::new(),
        encrypted,
    };
    let damaged = || format!("{shown} is damaged or incomplete");
    std::fs::create_dir_all(into.join(BLOBS))?;
    for entry in archive.entries().with_context(damaged)? {
        let mut entry = entry.with_context(damaged)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !allowed(&name) || entry.header().entry_type() != tar::EntryType::Regular {
            bail!("{shown} holds an unexpected entry `{name}`: it is not a backup of this format");
        }
        if name == MANIFEST {
            if unpacked.manifest.is_some() {
                bail!("{shown} holds two manifests");
            }
            let mut json = Vec::new();
            entry.read_to_end(&mut json).with_context(damaged)?;
            let manifest: Manifest =
                serde_json::from_slice(&json).with_context(|| format!("the manifest of {shown} is not valid"))?;
            if manifest.format != FORMAT {
                bail!(
                    "{shown} is of backup format {}; this pa reads format {FORMAT}",
                    manifest.format
                );
            }
            unpacked.manifest = Some(manifest);
            continue;
        }
        let target = into.join(&name);
        let mut out = File::options()
            .write(true)
            .create_new(true)
            .open(&target)
            .with_context(|| {
                format!(
                    "{shown} holds `{name}` twice, or {} cannot be written",
                    target.display()
                )
            })?;
        let mut reader = Summing::new(&mut entry);
        io::copy(&mut reader, &mut out).with_context(damaged)?;
        unpacked.files.insert(name, reader.sum());
    }
    // Whatever follows the tar's end must still decompress (and decrypt) intact.
    io::copy(&mut archive.into_inner(), &mut io::sink()).with_context(damaged)?;
    Ok(unpacked)
}
