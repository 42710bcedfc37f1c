//! A native axum "hello" on the address given as the first argument: the
//! ceiling `cargo xtask bench http` reports ratios against.

use axum::serve::ListenerExt;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".into());
    let app = axum::Router::new().fallback(|| async { "hello from pa" });
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    println!("listening on http://{}", listener.local_addr().expect("address"));
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await.expect("serve");
}
