//! What the tests need beside `pa`: Debian's OpenLDAP server (`slapd`), the
//! `oidc-provider` OpenID provider (`tests/fixtures/oidc`), and the tools
//! `deploy/test.sh` checks the deployment files with.

use std::path::Path;
use std::process::Command;

use crate::{Result, root, run};

/// Debian packages, each with a file that shows it is installed.
const PACKAGES: [(&str, &str); 8] = [
    ("slapd", "/usr/sbin/slapd"),
    ("ldap-utils", "/usr/bin/ldapsearch"),
    ("prometheus", "/usr/bin/promtool"),
    ("prometheus-alertmanager", "/usr/bin/amtool"),
    ("nginx", "/usr/sbin/nginx"),
    ("openssl", "/usr/bin/openssl"),
    ("python3-yaml", "/usr/lib/python3/dist-packages/yaml/__init__.py"),
    ("shellcheck", "/usr/bin/shellcheck"),
];

/// Installs the fixtures' packages when missing.
pub fn ensure() -> Result {
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(package, _)| *package)
        .collect();
    if !missing.is_empty() {
        let install = || {
            run(Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends"])
                .args(&missing)
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
