//! Component bytes, content-addressed by SHA-256 in a folder.

use std::path::PathBuf;

/// A folder of blobs named by their SHA-256.
#[derive(Clone)]
pub struct Blobs {
    dir: PathBuf,
}

impl Blobs {
    /// Opens (and creates) the folder.
    pub fn open(dir: PathBuf) -> std::io::Result<Blobs> {
        std::fs::create_dir_all(&dir)?;
        Ok(Blobs { dir })
    }

    fn path(&self, sha256: &str) -> PathBuf {
        debug_assert!(is_sha256(sha256));
        self.dir.join(sha256)
    }

    /// Stores `bytes` under `sha256` (written to a temporary file, then renamed).
    pub async fn put(&self, sha256: &str, bytes: &[u8]) -> std::io::Result<()> {
        let path = self.path(sha256);
        if tokio::fs::try_exists(&path).await? {
            return Ok(());
        }
        let tmp = self.dir.join(format!(".{sha256}.{}.tmp", std::process::id()));
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await
    }

    /// The SHA-256 names of every stored blob, sorted.
    pub async fn list(&self) -> std::io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            // Skips the temporary files of writes in progress.
            if let Some(name) = entry.file_name().to_str().filter(|n| is_sha256(n)) {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// Reads the blob `sha256`.
    pub async fn get(&self, sha256: &str) -> std::io::Result<Vec<u8>> {
        tokio::fs::read(self.path(sha256)).await
    }
}

/// Whether `name` is a SHA-256 in lowercase hex, as blobs are named.
pub fn is_sha256(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
