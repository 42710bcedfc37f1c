//! Serving the platform's router: one acceptor hands each connection to one
//! of a few single-threaded runtimes (one per core), which reads, handles
//! and answers its requests on one thread. A request then never hops between
//! worker threads, which on a small machine costs more than the guest call.

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tower::ServiceExt;

/// As many connection threads as the machine has cores.
pub fn one_per_core() -> NonZeroUsize {
    std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN)
}

/// Serves `app` on `addr` with `threads` connection threads until `stop`
/// completes, then lets the requests in flight finish for up to `drain`.
pub async fn listen(
    addr: SocketAddr,
    app: Router,
    threads: NonZeroUsize,
    stop: impl Future<Output = ()>,
    drain: Duration,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    println!("listening on http://{}", listener.local_addr()?);
    let threads = ConnectionThreads::start(&app, threads)?;
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => threads.serve(tcp, peer, graceful.watcher()),
                Err(e) => accept_failed(e).await,
            },
        }
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown()).await.is_err() {
        tracing::warn!("requests still in flight when the drain time ran out");
    }
    Ok(())
}

/// An accept error: the connection's own (the client went away) is skipped,
/// anything else (out of file descriptors) waits a moment before retrying.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if !matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        tracing::error!(%error, "cannot accept connections");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A connection on its way to the thread that serves it.
struct Handoff {
    tcp: std::net::TcpStream,
    peer: SocketAddr,
    watcher: Watcher,
}

/// The single-threaded runtimes serving connections.
struct ConnectionThreads(Vec<ConnectionThread>);

struct ConnectionThread {
    handoff: mpsc::UnboundedSender<Handoff>,
    /// Connections it is serving now.
    open: Arc<AtomicUsize>,
}

impl ConnectionThreads {
    /// Starts `count` threads. Each keeps running until the process ends, so
    /// what its tasks registered with its I/O driver (pooled database
    /// connections shared with the rest of the process) stays usable.
    fn start(app: &Router, count: NonZeroUsize) -> anyhow::Result<ConnectionThreads> {
        let mut threads = Vec::with_capacity(count.get());
        for index in 0..count.get() {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let (handoff, mut arrivals) = mpsc::unbounded_channel::<Handoff>();
            let open = Arc::new(AtomicUsize::new(0));
            let (app, thread_open) = (app.clone(), open.clone());
            std::thread::Builder::new()
                .name(format!("pa-http-{index}"))
                .spawn(move || {
                    runtime.block_on(async move {
                        while let Some(arrival) = arrivals.recv().await {
                            tokio::spawn(serve_connection(
                                app.clone(),
                                arrival,
                                OpenConnection(thread_open.clone()),
                            ));
                        }
                        std::future::pending::<()>().await
                    })
                })?;
            threads.push(ConnectionThread { handoff, open });
        }
        Ok(ConnectionThreads(threads))
    }

    /// Hands `tcp` to the thread serving the fewest connections.
    fn serve(&self, tcp: TcpStream, peer: SocketAddr, watcher: Watcher) {
        // Responses streamed from guests arrive in several writes: without
        // TCP_NODELAY, Nagle's algorithm and delayed ACKs stall them by ~40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let tcp = match tcp.into_std() {
            Ok(tcp) => tcp,
            Err(e) => return tracing::debug!(error = %e, "cannot hand a connection over"),
        };
        let thread = self
            .0
            .iter()
            .min_by_key(|t| t.open.load(Ordering::Relaxed))
            .expect("at least one connection thread");
        thread.open.fetch_add(1, Ordering::Relaxed);
        if thread.handoff.send(Handoff { tcp, peer, watcher }).is_err() {
            thread.open.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("a connection thread is gone");
        }
    }
}

/// Counts a connection as open on its thread until dropped.
struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves HTTP/1 or HTTP/2 on one connection until it closes or the
/// shutdown watched by `arrival.watcher` ends it gracefully.
async fn serve_connection(app: Router, arrival: Handoff, _open: OpenConnection) {
    let Handoff { tcp, peer, watcher } = arrival;
    let tcp = match TcpStream::from_std(tcp) {
        Ok(tcp) => tcp,
        Err(e) => return tracing::debug!(error = %e, "cannot take a connection over"),
    };
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
    if let Err(e) = watcher.watch(connection.into_owned()).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
