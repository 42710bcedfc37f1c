//! Outbound connections (HTTP, and Spin's Redis): the allowlist a plugin was
//! granted, checked after DNS resolution (in the `wasi:http` send hook for
//! HTTP) so that a granted name which resolves to a loopback, private or
//! link-local address is still refused unless that address was granted
//! explicitly.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use http::uri::Scheme;
use http_body_util::BodyExt;
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode as P2ErrorCode;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode as P3ErrorCode;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::usage::{Counted, Usage};

/// A malformed allowlist entry.
#[derive(Debug, thiserror::Error)]
#[error("invalid outbound host `{entry}`: {reason}")]
pub struct AllowListError {
    entry: String,
    reason: &'static str,
}

/// One `scheme://host:port` grant, in Spin's `allowed_outbound_hosts` syntax;
/// `*` is a wildcard for the scheme, the port, a whole host or a leading label
/// (`*.example.com`).
#[derive(Clone, Debug)]
struct Rule {
    scheme: Option<String>,
    host: String,
    port: Option<u16>,
}

impl Rule {
    fn parse(entry: &str) -> Result<Rule, AllowListError> {
        let err = |reason| AllowListError {
            entry: entry.to_string(),
            reason,
        };
        let (scheme, rest) = entry
            .split_once("://")
            .ok_or_else(|| err("expected scheme://host[:port]"))?;
        let scheme = match scheme {
            "*" => None,
            "http" | "https" | "redis" => Some(scheme.to_string()),
            _ => return Err(err("the scheme must be http, https, redis or *")),
        };
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() || rest.contains('/') {
            return Err(err("expected a host, an optional port and no path"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => {
                let port = match port {
                    "*" => None,
                    p => Some(p.parse::<u16>().map_err(|_| err("the port must be a number or *"))?),
                };
                (host, port)
            }
            _ => (rest, scheme.as_deref().map(default_port)),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if host.is_empty() {
            return Err(err("the host is empty"));
        }
        Ok(Rule { scheme, host, port })
    }

    fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
            && self.port.is_none_or(|p| p == port)
            && (self.host == "*"
                || self.host == host
                || self
                    .host
                    .strip_prefix("*.")
                    .is_some_and(|suffix| host.strip_suffix(suffix).is_some_and(|label| label.ends_with('.'))))
    }

    /// A rule that names a loopback/private host itself (`localhost`,
    /// `127.0.0.1`, `10.0.0.5`) grants that address; wildcards never do.
    fn grants_internal(&self) -> bool {
        self.host == "localhost" || self.host.parse::<IpAddr>().is_ok()
    }
}

fn default_port(scheme: &str) -> u16 {
    match scheme {
        "https" => 443,
        "redis" => 6379,
        _ => 80,
    }
}

/// The outbound hosts a plugin may reach. Empty means no outbound HTTP.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    rules: Vec<Rule>,
}

impl AllowList {
    /// Parses grants such as `https://api.example.com`, `http://127.0.0.1:8080`
    /// or `https://*.example.com:*`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<AllowList, AllowListError> {
        let rules = entries
            .iter()
            .map(|e| Rule::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(AllowList { rules })
    }

    fn rule_for(&self, scheme: &str, host: &str, port: u16) -> Option<&Rule> {
        self.rules.iter().find(|r| r.matches(scheme, host, port))
    }

    /// The address to connect to for `scheme://host:port`: the host must be
    /// granted, and it is resolved here, once, refusing internal addresses
    /// unless the grant names the host itself.
    pub(crate) async fn resolve(&self, scheme: &str, host: &str, port: u16) -> Result<SocketAddr, Refused> {
        let rule = self.rule_for(scheme, host, port).ok_or(Refused::NotGranted)?;
        let addresses = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| Refused::Dns(e.to_string()))?;
        addresses
            .into_iter()
            .find(|a| rule.grants_internal() || !is_internal(a.ip()))
            .ok_or(Refused::Internal)
    }
}

/// Why an outbound connection was not made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// The plugin has no grant for the destination.
    #[error("the plugin has no grant for this destination (allowed_outbound_hosts)")]
    NotGranted,
    /// The name did not resolve.
    #[error("cannot resolve the host: {0}")]
    Dns(String),
    /// It resolved only to internal addresses the grant does not name.
    #[error("the host resolves only to loopback, private or link-local addresses, which need an explicit grant")]
    Internal,
}

/// True for addresses a wildcard grant must not reach: loopback, private,
/// link-local, unspecified, shared, multicast and unique-local ranges.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
        }
    }
}

/// A connection to an origin, plain or TLS.
trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// TLS client trusting the Web PKI roots. It connects over a socket already
/// opened to the checked address, so DNS cannot be consulted twice.
static TLS: LazyLock<TlsConnector> = LazyLock::new(|| {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.into(),
    };
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
});

/// The `wasi:http` hooks of one instance: applies the plugin's allowlist.
pub(crate) struct Egress {
    pub(crate) allow: Arc<AllowList>,
    pub(crate) usage: Arc<Usage>,
}

/// Whether a TLS failure is the origin's certificate being refused.
fn is_certificate_error(err: &std::io::Error) -> bool {
    err.get_ref()
        .and_then(|e| e.downcast_ref::<tokio_rustls::rustls::Error>())
        .is_some_and(|e| matches!(e, tokio_rustls::rustls::Error::InvalidCertificate(_)))
}

impl WasiHttpHooks for Egress {
    fn p2_error_from_tls(&mut self, err: &std::io::Error) -> P2ErrorCode {
        if is_certificate_error(err) {
            P2ErrorCode::TlsCertificateError
        } else {
            P2ErrorCode::TlsProtocolError
        }
    }

    fn p3_error_from_tls(&mut self, err: &std::io::Error) -> P3ErrorCode {
        if is_certificate_error(err) {
            P3ErrorCode::TlsCertificateError
        } else {
            P3ErrorCode::TlsProtocolError
        }
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_error: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        let allow = self.allow.clone();
        let usage = self.usage.clone();
        Box::new(async move {
            let (response, io) = send(allow, usage, request, options).await?;
            Ok((response, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

async fn send(
    allow: Arc<AllowList>,
    usage: Arc<Usage>,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<
    (
        http::Response<WasiBody>,
        impl Future<Output = Result<(), HttpError>> + Send,
    ),
    HttpError,
> {
    let uri = request.uri().clone();
    let scheme = uri.scheme().cloned().unwrap_or(Scheme::HTTPS);
    let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?;
    let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let port = uri.port_u16().unwrap_or(default_port(scheme.as_str()));
    let connect_timeout = options
        .and_then(|o| o.connect_timeout)
        .unwrap_or(Duration::from_secs(10));
    let first_byte_timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(Duration::from_secs(30));

    let address = allow
        .resolve(scheme.as_str(), &host, port)
        .await
        .map_err(|refused| match refused {
            Refused::NotGranted => HttpError::HttpRequestDenied,
            Refused::Dns(message) => HttpError::DnsError {
                rcode: Some(message),
                info_code: None,
            },
            Refused::Internal => HttpError::DestinationIpProhibited,
        })?;
    let stream = tokio::time::timeout(connect_timeout, tokio::net::TcpStream::connect(address))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)?
        .map_err(HttpError::Connect)?;
    let stream = Counted { inner: stream, usage };
    let stream: Box<dyn Io> = if scheme == Scheme::HTTPS {
        let name = ServerName::try_from(host.clone()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
        let tls = tokio::time::timeout(connect_timeout, TLS.connect(name, stream))
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(HttpError::Tls)?;
        Box::new(tls)
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let io = tokio::spawn(connection);
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)??;
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    Ok((response, async move {
        match io.await {
            Ok(result) => result.map_err(HttpError::from),
            Err(_) => Err(HttpError::ConnectionTerminated),
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_like_spin() {
        let list = AllowList::parse(&["https://api.example.com", "http://*.svc.test:8080", "*://any.org:*"]).unwrap();
        assert!(list.rule_for("https", "api.example.com", 443).is_some());
        assert!(list.rule_for("http", "api.example.com", 80).is_none());
        assert!(list.rule_for("http", "a.svc.test", 8080).is_some());
        assert!(list.rule_for("http", "svc.test", 8080).is_none());
        assert!(list.rule_for("http", "evilsvc.test", 8080).is_none());
        assert!(list.rule_for("https", "any.org", 9999).is_some());
        assert!(AllowList::parse(&["example.com"]).is_err());
        assert!(AllowList::parse(&["ftp://example.com"]).is_err());
        let redis = AllowList::parse(&["redis://cache.test"]).unwrap();
        assert!(redis.rule_for("redis", "cache.test", 6379).is_some());
        assert!(redis.rule_for("http", "cache.test", 6379).is_none());
        assert!(AllowList::parse(&["http://example.com/path"]).is_err());
    }

    #[test]
    fn internal_addresses_need_an_explicit_grant() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.1",
            "169.254.169.254",
            "::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        assert!(!is_internal("93.184.216.34".parse().unwrap()));
        let explicit = AllowList::parse(&["http://127.0.0.1:8080"]).unwrap();
        assert!(explicit.rule_for("http", "127.0.0.1", 8080).unwrap().grants_internal());
        let wildcard = AllowList::parse(&["http://*:*"]).unwrap();
        assert!(!wildcard.rule_for("http", "127.0.0.1", 8080).unwrap().grants_internal());
    }
}
