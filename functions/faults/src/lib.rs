//! wasi:http 0.2 proxy component that misbehaves on purpose, for sandbox tests (routes on the last path segment);
//! `print` writes its query to stdout and stderr, `flood` prints 8 MiB.

use std::io::{Read as _, Write as _};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme,
};

const MIB: usize = 1 << 20;

struct Faults;

impl wasi::exports::http::incoming_handler::Guest for Faults {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let full = request.path_with_query().unwrap_or_default();
        let (path, query) = full.split_once('?').unwrap_or((&full, ""));
        let (status, body) = match path.rsplit('/').next().unwrap_or_default() {
            "loop" => busy_loop(),
            "grow" => (200, format!("grew {} MiB", grow())),
            "file" => match std::fs::read_to_string("/etc/passwd") {
                Ok(s) => (200, format!("read: {}", s.len())),
                Err(e) => (200, format!("denied: {e}")),
            },
            "socket" => match std::net::TcpStream::connect("127.0.0.1:5432") {
                Ok(_) => (200, "connected".to_owned()),
                Err(e) => (200, format!("denied: {e}")),
            },
            "env" => (200, std::env::vars().count().to_string()),
            "fetch" => fetch(query),
            "ok" => (200, "ok".to_owned()),
            "print" => {
                println!("out: {}", percent_decode(query));
                eprintln!("err: {}", percent_decode(query));
                (200, "printed".to_owned())
            }
            "flood" => (200, format!("printed {} bytes", flood())),
            _ => (404, "unknown fault".to_owned()),
        };
        respond(out, status, body.as_bytes());
    }
}

/// Busy-loops forever without ever yielding to the host.
fn busy_loop() -> ! {
    let mut i = 0u64;
    loop {
        i = std::hint::black_box(i.wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB chunks until allocation fails; returns how many it got.
fn grow() -> usize {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = Vec::new();
        if chunks.try_reserve(1).is_err() || chunk.try_reserve_exact(MIB).is_err() {
            break;
        }
        chunk.resize(MIB, 0);
        for i in (0..MIB).step_by(4096) {
            chunk[i] = 1;
        }
        chunks.push(std::hint::black_box(chunk));
    }
    chunks.len()
}

/// Prints a 1 MiB line, then lines until 8 MiB are out; returns the bytes printed.
fn flood() -> usize {
    let mut out = std::io::stdout().lock();
    let long = "y".repeat(MIB);
    let mut printed = 0;
    let _ = writeln!(out, "{long}");
    printed += long.len() + 1;
    let mut i = 0u64;
    while printed < 8 * MIB {
        let line = format!("flood line {i}\n");
        let _ = out.write_all(line.as_bytes());
        printed += line.len();
        i += 1;
    }
    printed
}

/// Outbound GET of the `url=` query parameter.
fn fetch(query: &str) -> (u16, String) {
    let Some(url) = query.split_once("url=").map(|(_, u)| percent_decode(u)) else {
        return (400, "missing ?url=".to_owned());
    };
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", &url));
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let req = OutgoingRequest::new(Fields::new());
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => Scheme::Other(other.to_owned()),
    };
    if req.set_scheme(Some(&scheme)).is_err()
        || req.set_authority(Some(authority)).is_err()
        || req.set_path_with_query(Some(path)).is_err()
    {
        return (400, format!("bad url: {url}"));
    }
    let future = match outgoing_handler::handle(req, None) {
        Ok(f) => f,
        Err(e) => return (502, format!("refused: {e:?}")),
    };
    future.subscribe().block();
    let resp = match future.get() {
        Some(Ok(Ok(resp))) => resp,
        Some(Ok(Err(e))) => return (502, format!("refused: {e:?}")),
        other => return (502, format!("refused: {other:?}")),
    };
    let status = resp.status();
    let mut body = Vec::new();
    if let Ok(incoming) = resp.consume()
        && let Ok(mut stream) = incoming.stream()
    {
        let _ = stream.read_to_end(&mut body);
    }
    (200, format!("fetched {status} {}", String::from_utf8_lossy(&body)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => (out.push(v), i += 3),
            (c, _) => (out.push(c), i += 1),
        };
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(out: ResponseOutparam, status: u16, body: &[u8]) {
    let headers = Fields::from_list(&[("content-type".into(), b"text/plain".to_vec())]).unwrap();
    let resp = OutgoingResponse::new(headers);
    resp.set_status_code(status).unwrap();
    let out_body = resp.body().unwrap();
    ResponseOutparam::set(out, Ok(resp));
    let mut stream = out_body.write().unwrap();
    // blocking_write_and_flush is limited to 4096 bytes per call; write_all chunks for us.
    stream.write_all(body).unwrap();
    stream.flush().unwrap();
    drop(stream);
    OutgoingBody::finish(out_body, None).unwrap();
}

wasi::http::proxy::export!(Faults);
