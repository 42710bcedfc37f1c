//! The platform secret and the keys derived from it (token signing, audit
//! chain, MCP request state). Every node of a cluster must share it.

use std::path::Path;

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
            Err(_) => read_or_create(&data_dir.join("secret.key"))?,
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

fn read_or_create(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(existing) = std::fs::read(path) {
        return Ok(existing);
    }
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut secret);
    let encoded = hex::encode(secret);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    file.write_all(encoded.as_bytes())?;
    Ok(encoded.into_bytes())
}
