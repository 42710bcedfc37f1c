//! Minimal wasi:http 0.3 handler (spin-sdk 7, no Spin imports): answers every
//! request with `hello from pa`; the 0.3 hello of `cargo xtask bench http`.

use spin_sdk::http::{Request, StatusCode};
use spin_sdk::http_service;

#[http_service]
async fn handle(_req: Request) -> (StatusCode, String) {
    (StatusCode::OK, "hello from pa".to_string())
}
