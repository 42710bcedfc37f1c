//! Project tasks: `cargo xtask up | test | conformance | api-fuzz | bench | guests`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod apifuzz;
mod bench;
mod bench_workflow;
mod conformance;
mod console;
mod fixtures;
mod spin_python;
mod up;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("up") => up::start(),
        Some("test") => test(),
        Some("bench") => bench::start(&args[1..]),
        Some("guests") => build_guests().and_then(|()| spin_python::build()),
        Some("conformance") => build_guests()
            .and_then(|()| build_host())
            .and_then(|()| conformance::start()),
        Some("api-fuzz") => build_host().and_then(|()| apifuzz::start()),
        _ => Err(
            "usage: cargo xtask <up | test | conformance | api-fuzz | bench [http | mcp | workflow] | guests>".into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Where the guest components are built.
pub fn guests_dir() -> PathBuf {
    root().join("target/guests/wasm32-wasip2/release")
}

/// The release `pa` binary.
pub fn pa_binary() -> PathBuf {
    root().join("target/release/pa")
}

/// Runs a command in the repository root, failing on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// The cargo that runs xtask.
pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Installs the wasm32-wasip2 target when it is missing.
fn ensure_wasm_target() -> Result {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    if !String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))?;
    }
    Ok(())
}

/// Builds every guest workspace (`functions/`, `components/`) for wasm32-wasip2.
pub fn build_guests() -> Result {
    ensure_wasm_target()?;
    let target_dir = root().join("target/guests");
    for workspace in ["functions", "components"] {
        run(cargo()
            .args(["build", "--release", "--target", "wasm32-wasip2", "--target-dir"])
            .arg(&target_dir)
            .arg("--manifest-path")
            .arg(root().join(workspace).join("Cargo.toml")))?;
    }
    Ok(())
}

/// Builds the host (`target/release/pa`) and every test in release mode, with
/// the same feature set `cargo test` uses, so `up`, `test` and `bench` share
/// one build.
pub fn build_host() -> Result {
    run(cargo().args(["test", "--release", "--workspace", "--no-run"]))
}

/// The first-party MCP components, whose logic has native unit tests.
const FIRST_PARTY: [&str; 5] = ["smartui", "coding", "dev-flow", "release-mgmt", "operations"];

fn test() -> Result {
    build_guests()?;
    spin_python::build()?;
    run(cargo().args(["fmt", "--all", "--check"]))?;
    for workspace in ["functions", "components"] {
        run(cargo()
            .args(["fmt", "--all", "--check", "--manifest-path"])
            .arg(root().join(workspace).join("Cargo.toml")))?;
    }
    run(cargo().args([
        "clippy",
        "--release",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    fixtures::ensure()?;
    let python_tools = fixtures::python_tools()?;
    console::build()?;
    let path = format!(
        "{}:{}",
        python_tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    run(Command::new("bash")
        .arg(root().join("deploy/test.sh"))
        .arg("--all")
        .env("PATH", path))?;
    run(cargo()
        .args(["test", "--release", "--workspace"])
        .env("PA_GUESTS", guests_dir())
        .env("PA_MOTO_SERVER", python_tools.join("moto_server"))
        .env("RUST_LIB_BACKTRACE", "0"))?;
    // The first-party components' logic, natively.
    run(cargo()
        .args(["test", "--release", "--target-dir"])
        .arg(root().join("target/components-native"))
        .arg("--manifest-path")
        .arg(root().join("components/Cargo.toml"))
        .args(FIRST_PARTY.iter().flat_map(|c| ["-p", c])))?;
    console::test()?;
    conformance::start()?;
    apifuzz::start()
}
