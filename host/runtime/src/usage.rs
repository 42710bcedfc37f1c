//! What one plugin's calls consumed, for metering: running totals the host
//! takes (and resets) when it records them.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Running totals of one plugin (all its versions) since they were last taken.
#[derive(Debug, Default)]
pub struct Usage {
    invocations: AtomicU64,
    wall_micros: AtomicU64,
    fuel: AtomicU64,
    peak_memory: AtomicU64,
    egress_bytes: AtomicU64,
    /// Fuel since the process started; never taken (for metrics).
    fuel_total: AtomicU64,
}

/// What [`Usage::take`] returns.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UsageSample {
    /// Calls made on behalf of a client (HTTP requests, tool calls, resource
    /// reads, prompt requests).
    pub invocations: u64,
    /// Wall-clock time of those calls, in microseconds.
    pub wall_micros: u64,
    /// Fuel (wasm instructions, roughly) the plugin's instances consumed.
    pub fuel: u64,
    /// Largest linear memory any instance reached, in bytes.
    pub peak_memory: u64,
    /// Bytes sent and received over the plugin's outbound connections.
    pub egress_bytes: u64,
}

impl UsageSample {
    /// Whether nothing was consumed.
    pub fn is_empty(&self) -> bool {
        *self == UsageSample::default()
    }
}

impl Usage {
    /// Takes the totals, leaving zeros.
    pub fn take(&self) -> UsageSample {
        UsageSample {
            invocations: self.invocations.swap(0, Ordering::Relaxed),
            wall_micros: self.wall_micros.swap(0, Ordering::Relaxed),
            fuel: self.fuel.swap(0, Ordering::Relaxed),
            peak_memory: self.peak_memory.swap(0, Ordering::Relaxed),
            egress_bytes: self.egress_bytes.swap(0, Ordering::Relaxed),
        }
    }

    /// Fuel the plugin's instances consumed since this process started
    /// (not reset by [`Usage::take`]).
    pub fn fuel_total(&self) -> u64 {
        self.fuel_total.load(Ordering::Relaxed)
    }

    /// Counts one call; its wall time is added when the guard drops.
    pub(crate) fn call(self: &Arc<Self>) -> CallGuard {
        self.invocations.fetch_add(1, Ordering::Relaxed);
        CallGuard {
            usage: self.clone(),
            started: Instant::now(),
        }
    }

    pub(crate) fn add_instance(&self, fuel: u64, peak_memory: u64) {
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
        self.fuel_total.fetch_add(fuel, Ordering::Relaxed);
        self.peak_memory.fetch_max(peak_memory, Ordering::Relaxed);
    }
}

/// Adds a call's wall time to its plugin's usage when dropped.
pub(crate) struct CallGuard {
    usage: Arc<Usage>,
    started: Instant,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        let micros = u64::try_from(self.started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.usage.wall_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// A connection that counts the bytes crossing it as egress.
pub(crate) struct Counted<S> {
    pub(crate) inner: S,
    pub(crate) usage: Arc<Usage>,
}

impl<S> Counted<S> {
    fn add(&self, bytes: usize) {
        self.usage.egress_bytes.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.add(read);
        result
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(written)) = result {
            self.add(written);
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn take_resets_and_keeps_the_peak() {
        let usage = Arc::new(Usage::default());
        drop(usage.call());
        drop(usage.call());
        usage.add_instance(10, 4096);
        usage.add_instance(5, 1024);
        let sample = usage.take();
        assert_eq!((sample.invocations, sample.fuel, sample.peak_memory), (2, 15, 4096));
        assert!(usage.take().is_empty());
        assert_eq!(usage.fuel_total(), 15, "the total outlives take");
    }

    #[tokio::test]
    async fn counted_streams_add_both_directions() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let usage = Arc::new(Usage::default());
        let (near, mut far) = tokio::io::duplex(64);
        let mut counted = Counted {
            inner: near,
            usage: usage.clone(),
        };
        counted.write_all(b"hello").await.unwrap();
        far.write_all(b"world!").await.unwrap();
        let mut buf = [0u8; 6];
        counted.read_exact(&mut buf).await.unwrap();
        assert_eq!(usage.take().egress_bytes, 11);
    }
}
