//! Spin SDK 7 (wasi:http 0.3, async) component exercising the `default` key-value store and the `greeting` variable;
//! `…/print` prints its query to stdout.

use spin_sdk::http::body::IncomingBodyExt as _;
use spin_sdk::http::{Method, Request, StatusCode};
use spin_sdk::{http_service, key_value::Store, variables};

type Reply = (StatusCode, String);

fn text(status: StatusCode, body: impl Into<String>) -> Reply {
    (status, body.into())
}

#[http_service]
async fn handle(req: Request) -> Reply {
    let path = req.uri().path().to_owned();
    if path.ends_with("/print") {
        println!("spin7 printed {}", req.uri().query().unwrap_or_default());
        return text(StatusCode::OK, "printed");
    }
    if path.ends_with("/var") {
        return match variables::get("greeting").await {
            Ok(v) => text(StatusCode::OK, v),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("variable error: {e}")),
        };
    }
    let Some((_, key)) = path.rsplit_once("/kv/") else {
        return text(StatusCode::OK, "spin7 hello");
    };
    let store = match Store::open_default().await {
        Ok(s) => s,
        Err(e) => {
            return text(StatusCode::INTERNAL_SERVER_ERROR, format!("kv open error: {e}"));
        }
    };
    match *req.method() {
        Method::GET => match store.get(key).await {
            Ok(Some(v)) => text(StatusCode::OK, String::from_utf8_lossy(&v)),
            Ok(None) => text(StatusCode::NOT_FOUND, "not found"),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("kv error: {e}")),
        },
        Method::PUT | Method::POST => {
            let body = match req.into_body().bytes().await {
                Ok(b) => b,
                Err(e) => return text(StatusCode::BAD_REQUEST, format!("body error: {e:?}")),
            };
            match store.set(key, &body).await {
                Ok(()) => text(StatusCode::CREATED, "stored"),
                Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("kv error: {e}")),
            }
        }
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}
