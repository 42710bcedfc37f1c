//! Retiring routes of `/api/v1` without surprising anyone: a retired route
//! keeps answering until its sunset with `Deprecation` (RFC 9745), `Sunset`
//! (RFC 8594) and a `Link` to its successor, then answers `410 Gone` naming
//! the successor. The route table says which routes are retired; the OpenAPI
//! document marks them `deprecated`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::ApiError;

/// When a route was deprecated, when it stops answering, and what replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retirement {
    /// When the route was deprecated (Unix seconds).
    pub deprecated_at: i64,
    /// When it stops answering (Unix seconds).
    pub sunset_at: i64,
    /// The path (or path pattern) that replaces it.
    pub successor: &'static str,
}

impl Retirement {
    /// The human description the OpenAPI document and the docs give.
    pub fn describe(&self) -> String {
        format!(
            "Deprecated since {}; answers 410 Gone from {}. Use `{}` instead.",
            http_date(self.deprecated_at),
            http_date(self.sunset_at),
            self.successor
        )
    }

    /// The headers every answer of the route carries.
    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = |text: String| HeaderValue::try_from(text).expect("dates and paths are header-safe");
        headers.insert("deprecation", value(format!("@{}", self.deprecated_at)));
        headers.insert("sunset", value(http_date(self.sunset_at)));
        headers.insert(
            header::LINK,
            value(format!("<{}>; rel=\"successor-version\"", self.successor)),
        );
        headers
    }
}

/// `route` with its retirement, if it has one, in front of everything else
/// (its guard included).
pub fn apply<S: Clone + Send + Sync + 'static>(
    route: MethodRouter<S>,
    retirement: Option<Retirement>,
) -> MethodRouter<S> {
    match retirement {
        Some(retirement) => route.route_layer(from_fn_with_state(retirement, retire)),
        None => route,
    }
}

/// Middleware of a retired route: past its sunset, `410 Gone`; before, the
/// route's own answer with the retirement headers.
pub async fn retire(State(retirement): State<Retirement>, request: Request, next: Next) -> Response {
    let mut response = if OffsetDateTime::now_utc().unix_timestamp() >= retirement.sunset_at {
        let message = format!(
            "{} {} was retired on {}; use `{}` instead",
            request.method(),
            request.uri().path(),
            http_date(retirement.sunset_at),
            retirement.successor
        );
        ApiError::new(StatusCode::GONE, "gone", message).into_response()
    } else {
        next.run(request).await
    };
    response.headers_mut().extend(retirement.headers());
    response
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP date format.
fn http_date(unix: i64) -> String {
    let format =
        format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT");
    OffsetDateTime::from_unix_timestamp(unix)
        .expect("retirement dates are in range")
        .format(format)
        .expect("a date formats")
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A router with one route retired as `retirement` says.
    async fn answer(retirement: Retirement) -> Response {
        let route = apply(get(|| async { "still here" }), Some(retirement));
        let request = Request::get("/api/v1/old").body(Body::empty()).unwrap();
        Router::new()
            .route("/api/v1/old", route)
            .oneshot(request)
            .await
            .unwrap()
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    #[tokio::test]
    async fn a_deprecated_route_answers_with_its_retirement_headers() {
        let retirement = Retirement {
            deprecated_at: 1_782_864_000,
            sunset_at: now() + 86_400,
            successor: "/api/v1/new",
        };
        let response = answer(retirement).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["deprecation"], "@1782864000");
        assert_eq!(headers["sunset"], http_date(retirement.sunset_at).as_str());
        assert_eq!(headers["link"], "</api/v1/new>; rel=\"successor-version\"");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], b"still here");
    }

    #[tokio::test]
    async fn a_route_past_its_sunset_is_gone_and_names_its_successor() {
        let retirement = Retirement {
            deprecated_at: now() - 2 * 86_400,
            sunset_at: now() - 1,
            successor: "/api/v1/new",
        };
        let response = answer(retirement).await;
        assert_eq!(response.status(), StatusCode::GONE);
        assert_eq!(response.headers()["link"], "</api/v1/new>; rel=\"successor-version\"");
        let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "gone");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("GET /api/v1/old") && message.contains("/api/v1/new"),
            "{message}"
        );
    }

    #[test]
    fn dates_are_http_dates() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
