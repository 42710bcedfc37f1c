//! The recent log lines of one plugin: what its guests printed and the
//! host-side failures of its calls, in a bounded ring kept in memory (per
//! node), each line also emitted as a `pa::guest` log event.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

/// Lines a plugin's buffer keeps at most.
pub const BUFFER_LINES: usize = 1000;
/// Bytes of text a plugin's buffer keeps at most.
pub const BUFFER_BYTES: usize = 256 << 10;

/// Where a line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    /// The guest's standard output.
    Stdout,
    /// The guest's standard error.
    Stderr,
    /// The host: a call that failed (trap, timeout, memory limit).
    Host,
}

impl LogStream {
    /// The name used in the API and in log events.
    pub fn as_str(self) -> &'static str {
        match self {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::Host => "host",
        }
    }
}

/// One line of a plugin's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// When it was written.
    pub at: SystemTime,
    /// The plugin version whose instance wrote it.
    pub version: String,
    /// Where it came from.
    pub stream: LogStream,
    /// The text, without its line break.
    pub message: String,
    /// The OpenTelemetry trace id of the call, when the line could be tied to one.
    pub trace_id: Option<String>,
}

/// The newest lines of one plugin (all its versions), bounded by
/// [`BUFFER_LINES`] and [`BUFFER_BYTES`]: the oldest go first.
#[derive(Debug, Default)]
pub struct LogBuffer(Mutex<Ring>);

#[derive(Debug, Default)]
struct Ring {
    entries: VecDeque<LogEntry>,
    bytes: usize,
}

impl LogBuffer {
    /// Adds a line, dropping the oldest ones past the bounds.
    pub fn push(&self, entry: LogEntry) {
        let mut ring = self.0.lock().unwrap();
        ring.bytes += entry.message.len();
        ring.entries.push_back(entry);
        while ring.entries.len() > BUFFER_LINES || ring.bytes > BUFFER_BYTES {
            let Some(old) = ring.entries.pop_front() else { break };
            ring.bytes -= old.message.len();
        }
    }

    /// The newest `limit` lines that `keep` accepts, oldest first.
    pub fn newest(&self, limit: usize, keep: impl Fn(&LogEntry) -> bool) -> Vec<LogEntry> {
        let ring = self.0.lock().unwrap();
        let mut found: Vec<LogEntry> = ring
            .entries
            .iter()
            .rev()
            .filter(|e| keep(e))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        found
    }
}

/// Where the lines of one plugin version go: its buffer and the process log.
pub(crate) struct LogTarget {
    pub(crate) tenant: String,
    pub(crate) plugin: String,
    pub(crate) version: String,
    pub(crate) buffer: std::sync::Arc<LogBuffer>,
}

impl LogTarget {
    /// Records a line, tied to the trace of the current span if it has one.
    pub(crate) fn record(&self, stream: LogStream, message: String) {
        let trace_id = current_trace_id();
        let (tenant, plugin, version) = (self.tenant.as_str(), self.plugin.as_str(), self.version.as_str());
        let stream_name = stream.as_str();
        match stream {
            LogStream::Host => {
                tracing::error!(target: "pa::guest", tenant, plugin, version, stream = stream_name, "{message}")
            }
            LogStream::Stdout | LogStream::Stderr => {
                tracing::info!(target: "pa::guest", tenant, plugin, version, stream = stream_name, "{message}")
            }
        }
        self.buffer.push(LogEntry {
            at: SystemTime::now(),
            version: self.version.clone(),
            stream,
            message,
            trace_id,
        });
    }
}

/// The trace id of the current span, when OpenTelemetry tracks it (`pa
/// serve` gives every span one).
fn current_trace_id() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let context = tracing::Span::current().context();
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid().then(|| ids.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(message: &str, stream: LogStream) -> LogEntry {
        LogEntry {
            at: SystemTime::now(),
            version: "1.0.0".into(),
            stream,
            message: message.into(),
            trace_id: None,
        }
    }

    fn messages(entries: &[LogEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.message.as_str()).collect()
    }

    #[test]
    fn keeps_the_newest_lines_in_order() {
        let buffer = LogBuffer::default();
        for i in 0..BUFFER_LINES + 5 {
            buffer.push(entry(&i.to_string(), LogStream::Stdout));
        }
        let all = buffer.newest(usize::MAX, |_| true);
        assert_eq!(all.len(), BUFFER_LINES);
        assert_eq!(all[0].message, "5");
        assert_eq!(all.last().unwrap().message, (BUFFER_LINES + 4).to_string());
        let last = buffer.newest(2, |_| true);
        assert_eq!(
            messages(&last),
            [(BUFFER_LINES + 3).to_string(), (BUFFER_LINES + 4).to_string()]
        );
    }

    #[test]
    fn keeps_at_most_its_bytes() {
        let buffer = LogBuffer::default();
        let line = "x".repeat(1000);
        for _ in 0..BUFFER_BYTES / 1000 + 10 {
            buffer.push(entry(&line, LogStream::Stdout));
        }
        let all = buffer.newest(usize::MAX, |_| true);
        assert_eq!(all.len(), BUFFER_BYTES / 1000);
        assert!(all.iter().map(|e| e.message.len()).sum::<usize>() <= BUFFER_BYTES);
    }

    #[test]
    fn filters_before_taking_the_newest() {
        let buffer = LogBuffer::default();
        buffer.push(entry("out 1", LogStream::Stdout));
        buffer.push(entry("err 1", LogStream::Stderr));
        buffer.push(entry("out 2", LogStream::Stdout));
        buffer.push(entry("failed", LogStream::Host));
        let stdout = buffer.newest(10, |e| e.stream == LogStream::Stdout);
        assert_eq!(messages(&stdout), ["out 1", "out 2"]);
        let newest_guest = buffer.newest(1, |e| e.stream != LogStream::Host);
        assert_eq!(messages(&newest_guest), ["out 2"]);
    }
}
