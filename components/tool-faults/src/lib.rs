//! Tools that misbehave on purpose, beside one that works (unless the
//! `fail_echo` variable is `true`), to show that a failing tool is contained.

use std::sync::atomic::{AtomicU32, Ordering};

use pa_tool::{Args, CallResult, NO_ARGS, Server, ServerError, Tool, tool};

struct Faults;

impl Server for Faults {
    fn list_tools() -> Vec<Tool> {
        vec![
            tool(
                "echo",
                "Returns its `text` argument",
                r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#,
            ),
            tool("panic", "Panics (the instance traps)", NO_ARGS),
            tool("spin", "Loops forever (stopped by the timeout)", NO_ARGS),
            tool("grow", "Allocates memory until refused", NO_ARGS),
            tool(
                "count",
                "Counts its calls on this instance (instances are kept between calls)",
                NO_ARGS,
            ),
        ]
    }

    fn call_tool(name: String, args: Args) -> Result<CallResult, ServerError> {
        match name.as_str() {
            "echo" if pa_tool::config::get("fail_echo").as_deref() == Some("true") => {
                panic!("echo is configured to fail")
            }
            "echo" => Ok(CallResult::text(args.str("text")?)),
            "panic" => panic!("this tool always panics"),
            "spin" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "count" => {
                static CALLS: AtomicU32 = AtomicU32::new(0);
                Ok(CallResult::text(
                    (CALLS.fetch_add(1, Ordering::Relaxed) + 1).to_string(),
                ))
            }
            "grow" => {
                let mut blocks: Vec<Vec<u8>> = Vec::new();
                loop {
                    blocks.push(vec![1u8; 1 << 20]);
                }
            }
            other => Err(ServerError::NotFound(format!("no tool named `{other}`"))),
        }
    }
}

pa_tool::export!(Faults);
