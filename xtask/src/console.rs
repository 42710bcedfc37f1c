//! The management console (`console/`): its npm packages and Vite build
//! (for `up` and `test`), and its Playwright tests against the built `pa`
//! in Debian's Chromium.

use std::process::Command;

use crate::{Result, guests_dir, pa_binary, root, run};

/// Installs the console's packages (no browser download) and builds it into `console/dist`.
pub fn build() -> Result {
    let dir = root().join("console");
    crate::fixtures::npm_ci(&dir)?;
    run(Command::new("npm").arg("--prefix").arg(&dir).args(["run", "build"]))
}

/// Runs the console's browser tests against `target/release/pa`.
pub fn test() -> Result {
    run(Command::new("npm")
        .arg("--prefix")
        .arg(root().join("console"))
        .arg("test")
        .env("PA_BIN", pa_binary())
        .env("PA_GUESTS", guests_dir()))
}
