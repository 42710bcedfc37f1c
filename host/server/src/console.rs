//! The management console: the built single-page app served at `/console/`.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::get;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;

/// What the console's pages may load: only this origin (the API included),
/// inline styles for the charts, images from data and blob URLs.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'";

/// The folder of the built console: `dir` when given, else `console/dist`
/// under the working directory or `console/` beside the executable, if one
/// holds an `index.html`.
pub fn locate(dir: Option<PathBuf>) -> Option<PathBuf> {
    if dir.is_some() {
        return dir;
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("console")));
    [Some(PathBuf::from("console/dist")), beside_exe]
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").is_file())
}

/// Routes `/console` and everything under it: files of `dir`, and its
/// `index.html` for any other path (the app's own routes). Without a built
/// console, a 404 says how to build one.
pub fn router<S: Clone + Send + Sync + 'static>(dir: Option<&Path>) -> Router<S> {
    let Some(dir) = dir else {
        let missing = || async {
            ApiError::not_found("the console is not built: run `cargo xtask up`, or give `pa serve --console-dir`")
        };
        return Router::new()
            .route("/console", get(missing))
            .route("/console/", get(missing))
            .route("/console/{*rest}", get(missing));
    };
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .nest_service("/console", files)
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
}
