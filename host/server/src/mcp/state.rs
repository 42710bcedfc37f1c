//! `requestState` of the stateless revision's multi-round requests: the
//! answers gathered in earlier rounds, signed (HMAC-SHA256) so a client
//! cannot forge or alter them, and bound to the tenant and the request target.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// Signs and checks request states with a key derived from the platform
/// secret, so any node of a cluster accepts another's states.
pub struct StateSigner {
    key: Vec<u8>,
}

impl StateSigner {
    /// A signer with `key`.
    pub fn new(key: Vec<u8>) -> StateSigner {
        StateSigner { key }
    }

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(payload);
        mac
    }

    /// The state carrying `answers` for `target` (`tools/call:name`) of `tenant`.
    pub fn sign(&self, tenant: &str, target: &str, answers: &BTreeMap<String, Value>) -> String {
        let payload = json!({ "tenant": tenant, "target": target, "answers": answers }).to_string();
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The answers in `state`, if it is one this process signed for the same
    /// tenant and target.
    pub fn verify(&self, tenant: &str, target: &str, state: &str) -> Option<BTreeMap<String, Value>> {
        let (payload, tag) = state.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        self.mac(&payload).verify_slice(&tag).ok()?;
        let value: Value = serde_json::from_slice(&payload).ok()?;
        if value["tenant"] != tenant || value["target"] != target {
            return None;
        }
        serde_json::from_value(value["answers"].clone()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_refuse_tampering() {
        let signer = StateSigner::new(b"test key".to_vec());
        let answers = BTreeMap::from([("name".to_string(), json!({ "action": "accept" }))]);
        let state = signer.sign("acme", "tools/call:greet", &answers);
        assert_eq!(signer.verify("acme", "tools/call:greet", &state), Some(answers));
        assert!(
            signer
                .verify("acme", "tools/call:greet", &format!("{state}-TAMPERED"))
                .is_none()
        );
        assert!(signer.verify("globex", "tools/call:greet", &state).is_none());
        assert!(signer.verify("acme", "tools/call:other", &state).is_none());
        assert!(
            StateSigner::new(b"another key".to_vec())
                .verify("acme", "tools/call:greet", &state)
                .is_none()
        );
    }
}
