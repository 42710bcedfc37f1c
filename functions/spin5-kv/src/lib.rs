//! Spin SDK 5 (wasi:http 0.2) component exercising the `default` key-value store and the `greeting` variable.

use spin_sdk::http::{Method, Request, Response};
use spin_sdk::{http_component, key_value::Store, variables};

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.into())
        .build()
}

#[http_component]
fn handle(req: Request) -> Response {
    let full = req.path_and_query().unwrap_or("/");
    let path = full.split('?').next().unwrap_or_default();
    if path.ends_with("/var") {
        return match variables::get("greeting") {
            Ok(v) => text(200, v),
            Err(e) => text(500, format!("variable error: {e}")),
        };
    }
    let Some((_, key)) = path.rsplit_once("/kv/") else {
        return text(200, "spin5 hello");
    };
    let store = match Store::open_default() {
        Ok(s) => s,
        Err(e) => return text(500, format!("kv open error: {e}")),
    };
    match req.method() {
        Method::Get => match store.get(key) {
            Ok(Some(v)) => text(200, String::from_utf8_lossy(&v)),
            Ok(None) => text(404, "not found"),
            Err(e) => text(500, format!("kv error: {e}")),
        },
        Method::Put | Method::Post => match store.set(key, req.body()) {
            Ok(()) => text(201, "stored"),
            Err(e) => text(500, format!("kv error: {e}")),
        },
        _ => text(405, "method not allowed"),
    }
}
