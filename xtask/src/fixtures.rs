//! What the end-to-end tests start beside `pa`: Debian's OpenLDAP server
//! (`slapd`) and the `oidc-provider` OpenID provider (`tests/fixtures/oidc`).

use std::path::Path;
use std::process::Command;

use crate::{Result, root, run};

/// Installs the fixtures' packages when missing.
pub fn ensure() -> Result {
    if !Path::new("/usr/sbin/slapd").exists() || !Path::new("/usr/bin/ldapsearch").exists() {
        let install = || {
            run(Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "slapd", "ldap-utils"])
                .env("DEBIAN_FRONTEND", "noninteractive"))
        };
        install().or_else(|_| run(Command::new("apt-get").arg("update")).and_then(|()| install()))?;
    }
    npm_ci(&root().join("tests/fixtures/oidc"))
}

/// `npm ci` in `dir` unless its `node_modules` already matches the lock file.
fn npm_ci(dir: &Path) -> Result {
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let marker = dir.join("node_modules/.pa-installed-lock");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir))?;
    std::fs::write(marker, lock).map_err(|e| e.to_string())
}
