//! Component and site bytes, content-addressed by SHA-256, in a local folder
//! or an S3-compatible bucket (through `object_store`).

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

/// Where blobs are kept, and under which prefix.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
}

impl Blobs {
    /// Blobs in a local folder (created if missing).
    pub fn open(dir: PathBuf) -> io::Result<Blobs> {
        std::fs::create_dir_all(&dir)?;
        let local = LocalFileSystem::new_with_prefix(&dir).map_err(to_io)?;
        Ok(Blobs {
            store: Arc::new(local),
            prefix: Path::default(),
        })
    }

    /// Blobs at `url`: `s3://BUCKET[/PREFIX]` (credentials, region and
    /// endpoint from the standard `AWS_*` variables, e.g. `AWS_ENDPOINT` and
    /// `AWS_ALLOW_HTTP=true` for MinIO) or `file:///FOLDER`.
    pub fn from_url(url: &str) -> io::Result<Blobs> {
        let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("blob URL `{url}`: {why}"));
        if let Some(folder) = url.strip_prefix("file://") {
            if !folder.starts_with('/') {
                return Err(invalid("use file:///ABSOLUTE/FOLDER"));
            }
            return Blobs::open(PathBuf::from(folder));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(invalid("use s3://BUCKET[/PREFIX] or file:///FOLDER"));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(invalid("the bucket name is missing"));
        }
        let s3 = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        let prefix = Path::parse(prefix.trim_end_matches('/')).map_err(|e| invalid(&e.to_string()))?;
        Ok(Blobs {
            store: Arc::new(s3),
            prefix,
        })
    }

    fn path(&self, sha256: &str) -> Path {
        debug_assert!(is_sha256(sha256));
        self.prefix.child(sha256)
    }

    /// Stores `bytes` under `sha256`, all or nothing (a reader never sees a
    /// partial blob: the local folder renames a finished file, S3 puts whole
    /// objects).
    pub async fn put(&self, sha256: &str, bytes: &[u8]) -> io::Result<()> {
        let payload = PutPayload::from(bytes::Bytes::copy_from_slice(bytes));
        self.store.put(&self.path(sha256), payload).await.map_err(to_io)?;
        Ok(())
    }

    /// Reads the blob `sha256` (`NotFound` when there is none).
    pub async fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let found = self.store.get(&self.path(sha256)).await.map_err(to_io)?;
        Ok(found.bytes().await.map_err(to_io)?.to_vec())
    }

    /// The SHA-256 names of every blob, sorted.
    pub async fn list(&self) -> io::Result<Vec<String>> {
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let mut names: Vec<String> = self
            .store
            .list(prefix)
            .map_ok(|meta| meta.location.filename().unwrap_or_default().to_string())
            .try_collect::<Vec<_>>()
            .await
            .map_err(to_io)?
            .into_iter()
            .filter(|name| is_sha256(name))
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Whether `name` is a blob's name: 64 hexadecimal digits.
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

fn to_io(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
        other => io::Error::other(other.to_string()),
    }
}
