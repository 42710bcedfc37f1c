//! Where a tenant's model provider may be: public addresses, and the
//! loopback, private or link-local hosts the operator lists
//! (`--model-internal-hosts`, e.g. a local Ollama). Checked on the URL's
//! literal address and again after DNS resolution, so a name that resolves
//! to an internal address (DNS rebinding) is refused too.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The internal hosts the operator allows model providers at.
#[derive(Clone, Debug, Default)]
pub struct InternalHosts {
    any: bool,
    hosts: HashSet<String>,
}

impl InternalHosts {
    /// From host names or addresses as given (`*` allows every internal host).
    pub fn new(hosts: &[String]) -> InternalHosts {
        let hosts: HashSet<String> = hosts
            .iter()
            .map(|h| {
                h.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase()
            })
            .filter(|h| !h.is_empty())
            .collect();
        InternalHosts {
            any: hosts.contains("*"),
            hosts,
        }
    }

    fn allows(&self, host: &str) -> bool {
        self.any || self.hosts.contains(&host.to_ascii_lowercase())
    }

    /// Refuses a URL whose host is a literal internal address the operator
    /// did not list (names are checked when they are resolved).
    pub fn check_url(&self, url: &Url) -> Result<(), String> {
        let Some(host) = url.host_str() else { return Ok(()) };
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) if pa_runtime::is_internal(ip) && !self.allows(bare) => Err(refusal(bare)),
            _ => Ok(()),
        }
    }

    /// A DNS resolver for the provider client that drops internal addresses
    /// of hosts the operator did not list.
    pub fn resolver(&self) -> Arc<PublicResolver> {
        Arc::new(PublicResolver(self.clone()))
    }
}

fn refusal(host: &str) -> String {
    format!(
        "`{host}` is a loopback, private or link-local address, where model providers may only be \
         when the operator lists the host in --model-internal-hosts (PA_MODEL_INTERNAL_HOSTS)"
    )
}

/// Resolves provider host names, keeping only the addresses they may use.
pub struct PublicResolver(InternalHosts);

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let usable: Vec<SocketAddr> = if allowed.allows(&host) {
                found
            } else {
                found.into_iter().filter(|a| !pa_runtime::is_internal(a.ip())).collect()
            };
            if usable.is_empty() {
                return Err(refusal(&host).into());
            }
            let addrs: Addrs = Box::new(usable.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn literal_internal_addresses_need_the_operators_leave() {
        let none = InternalHosts::new(&[]);
        for internal in [
            "http://127.0.0.1:11434/v1",
            "http://[::1]/v1",
            "http://10.0.0.8/v1",
            "http://169.254.169.254/",
        ] {
            let refused = none.check_url(&url(internal)).unwrap_err();
            assert!(refused.contains("--model-internal-hosts"), "{refused}");
        }
        assert!(none.check_url(&url("https://api.openai.com/v1")).is_ok());
        assert!(
            none.check_url(&url("http://localhost:11434/v1")).is_ok(),
            "names are checked once resolved"
        );
        let local = InternalHosts::new(&["127.0.0.1".into(), "[::1]".into()]);
        assert!(local.check_url(&url("http://127.0.0.1:11434/v1")).is_ok());
        assert!(local.check_url(&url("http://[::1]:11434/v1")).is_ok());
        assert!(local.check_url(&url("http://10.0.0.8/v1")).is_err());
        assert!(
            InternalHosts::new(&["*".into()])
                .check_url(&url("http://10.0.0.8/v1"))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_unless_listed() {
        let refused = InternalHosts::new(&[])
            .resolver()
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        let message = refused.err().expect("localhost resolves only to loopback").to_string();
        assert!(message.contains("`localhost`"), "{message}");
        let listed = InternalHosts::new(&["localhost".into()]).resolver();
        let addrs: Vec<SocketAddr> = listed
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
