//! Compiling uploaded components under a time limit. Compiling hostile input
//! can be slow, so the platform compiles in a child process that is killed at
//! the limit; the artefact it returns is written to the host's own cache.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wasmtime::Engine;

use crate::LoadError;
use crate::world::World;

/// Where components are compiled.
#[derive(Clone, Debug)]
pub enum Compiler {
    /// On a thread of this process. A compilation past the limit is reported
    /// and its result dropped, but the thread runs to its end: for trusted input.
    Thread,
    /// In a child process, `program args… p2|p3`, that runs [`compile_worker`];
    /// it is killed at the limit.
    Process {
        /// The executable (the `pa` binary itself).
        program: PathBuf,
        /// Arguments before the engine name.
        args: Vec<String>,
    },
}

impl Compiler {
    /// Precompiles `bytes` for the engine of `world` within `timeout`.
    pub(crate) fn precompile(
        &self,
        engine: &Engine,
        world: World,
        bytes: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, LoadError> {
        match self {
            Compiler::Thread => on_thread(engine, bytes, timeout),
            Compiler::Process { program, args } => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(engine_name(world));
                in_process(cmd, bytes, timeout)
            }
        }
    }
}

fn engine_name(world: World) -> &'static str {
    match world {
        World::HttpP2 | World::ToolServer | World::Exports | World::WorkflowStep => "p2",
        World::HttpP3 => "p3",
    }
}

fn on_thread(engine: &Engine, bytes: &[u8], timeout: Duration) -> Result<Vec<u8>, LoadError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let engine = engine.clone();
    let bytes = bytes.to_vec();
    std::thread::Builder::new()
        .name("pa-compile".into())
        .spawn(move || {
            let _ = tx.send(engine.precompile_component(&bytes));
        })
        .map_err(LoadError::Cache)?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(compiled)) => Ok(compiled),
        Ok(Err(e)) => Err(LoadError::Compile(format!("{e:#}"))),
        Err(_) => Err(LoadError::CompileTimeout(timeout)),
    }
}

fn in_process(mut cmd: Command, bytes: &[u8], timeout: Duration) -> Result<Vec<u8>, LoadError> {
    let deadline = Instant::now() + timeout;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stderr.read_to_string(&mut out);
        out
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LoadError::CompileTimeout(timeout));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = writer.join();
    let output = reader
        .join()
        .map_err(|_| LoadError::Compile("the compile worker's output was lost".into()))??;
    let errors = errors.join().unwrap_or_default();
    if status.success() {
        Ok(output)
    } else {
        let message = errors.trim();
        Err(LoadError::Compile(if message.is_empty() {
            format!("the compile worker failed ({status})")
        } else {
            message.to_string()
        }))
    }
}

/// The body of a compile worker process (`engine` is `p2` or `p3`): reads a
/// component on stdin and writes the precompiled artefact on stdout.
pub fn compile_worker(engine: &str) -> Result<(), String> {
    let concurrency = match engine {
        "p2" => false,
        "p3" => true,
        other => return Err(format!("unknown engine `{other}`: expected p2 or p3")),
    };
    let engine = crate::engine::new_engine(concurrency).map_err(|e| format!("{e:#}"))?;
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let compiled = engine.precompile_component(&bytes).map_err(|e| format!("{e:#}"))?;
    std::io::stdout().write_all(&compiled).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn a_slow_worker_is_killed_at_the_limit() {
        let started = Instant::now();
        let result = in_process(sh("sleep 30"), b"component", Duration::from_millis(200));
        assert!(matches!(result, Err(LoadError::CompileTimeout(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "the worker was not killed");
    }

    #[test]
    fn worker_output_and_errors_are_passed_on() {
        let echoed = in_process(sh("cat"), b"artefact", Duration::from_secs(10)).unwrap();
        assert_eq!(echoed, b"artefact");
        let failed = in_process(sh("echo 'bad component' >&2; exit 3"), b"", Duration::from_secs(10));
        assert!(matches!(failed, Err(LoadError::Compile(m)) if m == "bad component"));
    }
}
