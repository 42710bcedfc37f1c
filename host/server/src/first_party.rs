//! The platform's own components (`components/first-party.toml`), offered to
//! every tenant: found as built files in one folder when `pa serve` starts,
//! stored and enabled in a tenant when its admin asks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use crate::deploy::Grants;

/// The offer: every first-party component with its default grants.
const MANIFEST: &str = include_str!("../../../components/first-party.toml");

/// One entry of the manifest.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    file: String,
    version: String,
    description: String,
    #[serde(default)]
    grants: Grants,
}

/// A first-party component this platform can enable in a tenant.
#[derive(Clone, Debug, Serialize)]
pub struct Offer {
    /// The plugin name it gets in a tenant.
    pub name: String,
    /// The version it is stored as: the component's own version with the
    /// start of its SHA-256 as build metadata (other bytes, other version).
    pub version: String,
    /// What it does.
    pub description: String,
    /// What it is enabled with unless the request says otherwise.
    pub grants: Grants,
    /// The component.
    #[serde(skip)]
    pub bytes: Bytes,
}

/// The first-party components found at start.
#[derive(Default)]
pub struct FirstParty {
    offers: BTreeMap<String, Offer>,
}

impl FirstParty {
    /// Reads the components of the manifest found in `dir` (none without a
    /// folder); an entry whose file is missing is not offered.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<FirstParty> {
        let Some(dir) = dir else {
            return Ok(FirstParty::default());
        };
        let manifest: BTreeMap<String, Entry> = toml::from_str(MANIFEST)?;
        let mut offers = BTreeMap::new();
        for (name, entry) in manifest {
            let path = dir.join(&entry.file);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => Bytes::from(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(component = %name, path = %path.display(), "first-party component not found");
                    continue;
                }
                Err(e) => return Err(anyhow::anyhow!("reading {}: {e}", path.display())),
            };
            let digest = pa_runtime::digest(&bytes);
            let offer = Offer {
                name: name.clone(),
                version: format!("{}+{}", entry.version, &digest[..12]),
                description: entry.description,
                grants: entry.grants,
                bytes,
            };
            offers.insert(name, offer);
        }
        Ok(FirstParty { offers })
    }

    /// Every offered component, by name.
    pub fn offers(&self) -> impl Iterator<Item = &Offer> {
        self.offers.values()
    }

    /// The component offered as `name`.
    pub fn get(&self, name: &str) -> Option<&Offer> {
        self.offers.get(name)
    }
}

/// The folder of first-party components: `dir` when given, else
/// `first-party/` beside the executable if there is one.
pub fn locate(dir: Option<PathBuf>) -> Option<PathBuf> {
    if dir.is_some() {
        return dir;
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("first-party")))?;
    beside_exe.is_dir().then_some(beside_exe)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_offers_every_entry_whose_file_is_there() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("smartui.wasm"), b"bytes").unwrap();
        let found = FirstParty::load(Some(dir.path())).unwrap();
        let names: Vec<_> = found.offers().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["smartui"]);
        let smartui = found.get("smartui").unwrap();
        assert_eq!(
            smartui.version,
            format!("0.1.0+{}", &pa_runtime::digest(b"bytes")[..12])
        );
        assert!(semver::Version::parse(&smartui.version).is_ok());
        assert!(FirstParty::load(None).unwrap().offers().next().is_none());
    }

    #[test]
    fn default_grants_come_from_the_manifest() {
        let manifest: BTreeMap<String, Entry> = toml::from_str(MANIFEST).unwrap();
        assert_eq!(manifest.len(), 11);
        assert!(manifest["ocr-implementation"].grants.ocr);
        assert_eq!(manifest["ocr-release"].grants.sites, ["ocr-results"]);
        assert_eq!(manifest["smartui"].grants, Grants::default());
    }
}
