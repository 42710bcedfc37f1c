//! The platform secret and the keys derived from it (token signing, audit
//! chain, MCP request state). Every node of a cluster must share it.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Keys derived from the platform secret.
#[derive(Clone)]
pub struct Secrets {
    /// Signs access tokens (HS256).
    pub jwt: Vec<u8>,
    /// Keys the audit chain's HMAC.
    pub audit: Vec<u8>,
    /// Signs MCP `requestState`.
    pub mcp_state: Vec<u8>,
    /// Seals secrets tenants store (model provider keys).
    pub sealing: Vec<u8>,
}

impl Secrets {
    /// `PA_SECRET_KEY` when set (at least 32 characters), else the key in
    /// `data_dir/secret.key`, created on first start (mode 0600).
    pub fn load(data_dir: &Path) -> anyhow::Result<Secrets> {
        let secret = match std::env::var("PA_SECRET_KEY") {
            Ok(key) if key.len() >= 32 => key.into_bytes(),
            Ok(_) => anyhow::bail!("PA_SECRET_KEY must be at least 32 characters"),
            Err(_) => read_or_create(data_dir)?,
        };
        Ok(Secrets::derive(&secret))
    }

    /// The subkeys of `secret`.
    pub fn derive(secret: &[u8]) -> Secrets {
        let sub = |label: &str| {
            let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
            mac.update(label.as_bytes());
            mac.finalize().into_bytes().to_vec()
        };
        Secrets {
            jwt: sub("pa/jwt"),
            audit: sub("pa/audit"),
            mcp_state: sub("pa/mcp-state"),
            sealing: sub("pa/sealing"),
        }
    }
}

/// Where the platform secret is kept in `data_dir` when `PA_SECRET_KEY` is unset.
pub fn secret_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("secret.key")
}

/// Writes `secret` as the new platform secret of `data_dir` (mode 0600).
pub fn write_secret_key(data_dir: &Path, secret: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = secret_key_path(data_dir);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(secret)?;
    Ok(())
}

fn read_or_create(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read(secret_key_path(data_dir)) {
        return Ok(existing);
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let encoded = hex::encode(secret);
    write_secret_key(data_dir, encoded.as_bytes())?;
    Ok(encoded.into_bytes())
}
