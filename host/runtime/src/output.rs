//! A guest's standard output and error, cut into lines for its plugin's log
//! (for `wasi:cli` 0.2 and 0.3 alike). A hostile guest cannot make the host
//! hold much: a line keeps at most [`MAX_LINE_BYTES`], a call records at most
//! [`MAX_LINES_PER_CALL`] lines, and the rest is dropped (writes still succeed).

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::logs::{LogStream, LogTarget};

/// Bytes of one line that are kept; the rest of the line is dropped.
pub const MAX_LINE_BYTES: usize = 2048;
/// Lines one call records; then one line says the rest was dropped.
pub const MAX_LINES_PER_CALL: u32 = 200;

/// Bytes a guest may write at once (what wasmtime's own streams allow).
const WRITE_PERMIT: usize = 64 << 10;

/// The output of one instance: both streams' unfinished lines and how many
/// lines the current call recorded. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Capture(Arc<Mutex<Lines>>);

struct Lines {
    target: Arc<LogTarget>,
    stdout: OpenLine,
    stderr: OpenLine,
    recorded: u32,
}

/// A line not ended yet.
#[derive(Default)]
struct OpenLine {
    bytes: Vec<u8>,
    cut: bool,
}

impl Capture {
    pub(crate) fn new(target: Arc<LogTarget>) -> Capture {
        Capture(Arc::new(Mutex::new(Lines {
            target,
            stdout: OpenLine::default(),
            stderr: OpenLine::default(),
            recorded: 0,
        })))
    }

    /// The guest's end of `stream` (stdout or stderr).
    pub(crate) fn stream(&self, stream: LogStream) -> GuestStream {
        GuestStream {
            capture: self.clone(),
            stream,
        }
    }

    /// Starts a new call: its own budget of lines.
    pub(crate) fn new_call(&self) {
        self.0.lock().unwrap().recorded = 0;
    }

    /// Records the lines left unended (at the end of a call).
    pub(crate) fn finish(&self) {
        let mut lines = self.0.lock().unwrap();
        for stream in [LogStream::Stdout, LogStream::Stderr] {
            let open = lines.open(stream);
            if !open.bytes.is_empty() || open.cut {
                lines.end(stream);
            }
        }
    }

    fn write(&self, stream: LogStream, mut data: &[u8]) {
        let mut lines = self.0.lock().unwrap();
        while !data.is_empty() && lines.recorded <= MAX_LINES_PER_CALL {
            let (part, rest, ended) = match data.iter().position(|&b| b == b'\n') {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            let open = lines.open(stream);
            let room = MAX_LINE_BYTES - open.bytes.len();
            open.bytes.extend_from_slice(&part[..part.len().min(room)]);
            open.cut |= part.len() > room;
            if ended {
                lines.end(stream);
            }
            data = rest;
        }
    }
}

impl Lines {
    fn open(&mut self, stream: LogStream) -> &mut OpenLine {
        match stream {
            LogStream::Stderr => &mut self.stderr,
            LogStream::Stdout | LogStream::Host => &mut self.stdout,
        }
    }

    /// Records the open line of `stream` within the call's budget.
    fn end(&mut self, stream: LogStream) {
        let line = std::mem::take(self.open(stream));
        let message = if self.recorded < MAX_LINES_PER_CALL {
            let text = String::from_utf8_lossy(&line.bytes);
            let text = text.strip_suffix('\r').unwrap_or(&text);
            if line.cut {
                format!("{text} … [line cut at {MAX_LINE_BYTES} bytes]")
            } else {
                text.to_string()
            }
        } else if self.recorded == MAX_LINES_PER_CALL {
            format!("[more output of this call dropped: over {MAX_LINES_PER_CALL} lines]")
        } else {
            return;
        };
        self.recorded += 1;
        self.target.record(stream, message);
    }
}

/// One standard stream of a guest, as `wasi:cli` 0.2 and 0.3 write to it.
#[derive(Clone)]
pub(crate) struct GuestStream {
    capture: Capture,
    stream: LogStream,
}

impl IsTerminal for GuestStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStream {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestStream {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.capture.write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

impl AsyncWrite for GuestStream {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.capture.write(self.stream, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogBuffer;

    fn capture() -> (Capture, Arc<LogBuffer>) {
        let buffer = Arc::new(LogBuffer::default());
        let target = LogTarget {
            tenant: "acme".into(),
            plugin: "hello".into(),
            version: "1.0.0".into(),
            buffer: buffer.clone(),
        };
        (Capture::new(Arc::new(target)), buffer)
    }

    fn lines(buffer: &LogBuffer) -> Vec<(LogStream, String)> {
        buffer
            .newest(usize::MAX, |_| true)
            .into_iter()
            .map(|e| (e.stream, e.message))
            .collect()
    }

    #[test]
    fn cuts_writes_into_lines_per_stream() {
        let (capture, buffer) = capture();
        capture.write(LogStream::Stdout, b"hel");
        capture.write(LogStream::Stderr, b"oops\r\n");
        capture.write(LogStream::Stdout, b"lo\nworld\n\nrest");
        assert_eq!(
            lines(&buffer),
            [
                (LogStream::Stderr, "oops".to_string()),
                (LogStream::Stdout, "hello".to_string()),
                (LogStream::Stdout, "world".to_string()),
                (LogStream::Stdout, String::new()),
            ]
        );
        capture.finish();
        assert_eq!(lines(&buffer).last().unwrap(), &(LogStream::Stdout, "rest".to_string()));
        capture.finish();
        assert_eq!(lines(&buffer).len(), 5, "nothing is left to finish");
    }

    #[test]
    fn a_long_line_is_cut() {
        let (capture, buffer) = capture();
        let long = vec![b'x'; MAX_LINE_BYTES * 3];
        capture.write(LogStream::Stdout, &long);
        capture.write(LogStream::Stdout, &long);
        capture.write(LogStream::Stdout, b"\nnext\n");
        let lines = lines(&buffer);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].1.starts_with(&"x".repeat(MAX_LINE_BYTES)));
        assert!(lines[0].1.ends_with(&format!("[line cut at {MAX_LINE_BYTES} bytes]")));
        assert_eq!(lines[1].1, "next");
    }

    #[test]
    fn a_call_records_a_bounded_number_of_lines() {
        let (capture, buffer) = capture();
        let flood = "line\n".repeat(MAX_LINES_PER_CALL as usize * 5);
        capture.write(LogStream::Stdout, flood.as_bytes());
        capture.write(LogStream::Stderr, b"still dropped\n");
        let recorded = lines(&buffer);
        assert_eq!(recorded.len(), MAX_LINES_PER_CALL as usize + 1);
        assert!(
            recorded
                .last()
                .unwrap()
                .1
                .starts_with("[more output of this call dropped")
        );
        capture.new_call();
        capture.write(LogStream::Stderr, b"next call\n");
        assert_eq!(lines(&buffer).last().unwrap().1, "next call");
    }
}
