//! Schemathesis (from PyPI) against `/api/v1/openapi.json` of a running
//! `pa serve`, on SQLite and on PostgreSQL: every check on every operation
//! (exceptions in `tests/api-fuzz/schemathesis.toml`, each with its reason).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::bench::spawn;
use crate::{Result, pa_binary, root, run};

const PACKAGE: &str = "schemathesis==4.32.5";
const TOKEN: &str = "api-fuzz-admin-token";

/// Installs schemathesis once (under `target/`) and fuzzes both backends.
pub fn start() -> Result {
    let base = root().join("target/api-fuzz");
    let st = install(&base.join("venv"))?;
    let postgres =
        std::env::var("PA_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let schema = format!("pa_fuzz_{}", std::process::id());
    // A fixed seed keeps `test` repeatable; `PA_FUZZ_SEED` explores other inputs.
    let seed = std::env::var("PA_FUZZ_SEED").unwrap_or_else(|_| "20261126".into());
    for (backend, database_url) in [
        ("sqlite", None),
        ("postgres", Some(format!("{postgres}?schema={schema}"))),
    ] {
        let data = base.join(format!("pa-data-{backend}"));
        let _ = std::fs::remove_dir_all(&data);
        let mut serve = Command::new(pa_binary());
        serve
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("PA_ADMIN_TOKEN", TOKEN)
            .env("PA_LOG", "error");
        if let Some(url) = &database_url {
            serve.args(["--database-url", url]);
        }
        let server = spawn(&mut serve)?;
        run(Command::new(&st)
            .arg("--config-file")
            .arg(root().join("tests/api-fuzz/schemathesis.toml"))
            .arg("run")
            .arg(format!("{}/api/v1/openapi.json", server.url))
            .args(["-H", &format!("Authorization: Bearer {TOKEN}"), "--workers", "2"])
            .args(["--seed", &seed]))
        .map_err(|e| format!("schemathesis found problems in the API on {backend}: {e}"))?;
    }
    Ok(())
}

/// A venv with schemathesis; returns its `st`.
fn install(dir: &Path) -> Result<PathBuf> {
    let st = dir.join("bin/st");
    let marker = dir.join(".installed");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == PACKAGE) {
        return Ok(st);
    }
    let _ = std::fs::remove_dir_all(dir);
    run(python().args(["-m", "venv"]).arg(dir))?;
    run(Command::new(dir.join("bin/python")).args(["-m", "pip", "install", "--quiet", PACKAGE]))?;
    std::fs::write(marker, PACKAGE).map_err(|e| e.to_string())?;
    Ok(st)
}

/// The newest Python 3.12+ found (Hypothesis trips over a CPython 3.11 parser
/// bug while describing its strategies), else `python3`.
fn python() -> Command {
    // pyenv's shims only answer for the versions named in PYENV_VERSION.
    let pyenv_versions = Command::new("pyenv")
        .args(["versions", "--bare"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(":")
        });
    for candidate in ["python3.13", "python3.12"] {
        let mut cmd = Command::new(candidate);
        if let Some(versions) = &pyenv_versions {
            cmd.env("PYENV_VERSION", versions);
        }
        if cmd.arg("--version").output().is_ok_and(|o| o.status.success()) {
            let mut cmd = Command::new(candidate);
            if let Some(versions) = &pyenv_versions {
                cmd.env("PYENV_VERSION", versions);
            }
            return cmd;
        }
    }
    Command::new("python3")
}
