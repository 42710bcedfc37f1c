//! Sealing secrets a tenant stores (a model provider's API key) with the
//! platform secret: AES-256-GCM with a random nonce, hex-encoded.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// Seals and opens stored secrets. Cheap to clone.
#[derive(Clone)]
pub struct Sealer(std::sync::Arc<LessSafeKey>);

impl Sealer {
    /// A sealer keyed by `key` (32 bytes).
    pub fn new(key: &[u8]) -> Sealer {
        let key = UnboundKey::new(&AES_256_GCM, key).expect("the sealing key is 32 bytes");
        Sealer(std::sync::Arc::new(LessSafeKey::new(key)))
    }

    /// `plain` sealed, as hex of nonce and ciphertext; `purpose` binds it to
    /// its use (it only opens with the same purpose).
    pub fn seal(&self, purpose: &str, plain: &str) -> String {
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce_bytes),
                Aad::from(purpose.as_bytes()),
                &mut data,
            )
            .expect("AES-GCM seals any length this small");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&data);
        hex::encode(out)
    }

    /// The plain text of `sealed`, or `None` when it was not sealed by this
    /// platform secret for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<String> {
        let bytes = hex::decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = data.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_text_opens_only_with_its_key_and_purpose() {
        let sealer = Sealer::new(&[7; 32]);
        let sealed = sealer.seal("model/t1", "sk-secret");
        assert!(!sealed.contains("sk-secret"));
        assert_ne!(sealed, sealer.seal("model/t1", "sk-secret"), "a fresh nonce each time");
        assert_eq!(sealer.open("model/t1", &sealed).as_deref(), Some("sk-secret"));
        assert_eq!(sealer.open("model/t2", &sealed), None);
        assert_eq!(Sealer::new(&[8; 32]).open("model/t1", &sealed), None);
        assert_eq!(sealer.open("model/t1", "00ff"), None);
    }
}
