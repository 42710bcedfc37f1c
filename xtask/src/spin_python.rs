//! A Spin app written in Python (`functions/spin-python`), built as `spin
//! build` builds one: Spin's Python SDK and `componentize-py` from PyPI, in a
//! venv under `target/`, make `spin_python.wasm` beside the other guests.

use std::path::Path;
use std::process::Command;

use crate::{Result, fixtures, guests_dir, root, run};

/// Spin's Python SDK for `wasi:http` 0.2 apps and the componentize-py it builds with.
const PACKAGES: [&str; 2] = ["componentize-py==0.17.2", "spin-sdk==3.4.1"];

/// Builds `spin_python.wasm` unless it is newer than the app's source and
/// the SDK's install.
pub fn build() -> Result {
    let app = root().join("functions/spin-python");
    let wasm = guests_dir().join("spin_python.wasm");
    let venv = fixtures::venv("spin-python", &PACKAGES)?;
    if [app.join("app.py"), venv.join(".installed")]
        .iter()
        .all(|source| is_newer(&wasm, source))
    {
        return Ok(());
    }
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run(Command::new("bash")
        .arg("-c")
        .arg(r#"cd "$1" && componentize-py -w spin-http componentize app -o "$2""#)
        .args(["componentize", &app.display().to_string(), &wasm.display().to_string()])
        // componentize-py finds the SDK's WIT through the active venv.
        .env("VIRTUAL_ENV", &venv)
        .env("PATH", path))
}

/// Whether `built` exists and was written after `source`.
fn is_newer(built: &Path, source: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(built), modified(source)), (Some(b), Some(s)) if b > s)
}
