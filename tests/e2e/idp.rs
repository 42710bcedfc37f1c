//! The identity-provider fixtures the tests start: a real OpenLDAP server
//! (`tests/fixtures/ldap`) and a real OpenID provider built on
//! `oidc-provider` (`tests/fixtures/oidc`), plus a user agent that signs in
//! at the provider the way a browser would.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `slapd` with the fixture directory (alice: pa-admins, bob:
/// pa-viewers, carol: other), killed on drop.
pub struct Slapd {
    child: Child,
    _dir: tempfile::TempDir,
    pub url: String,
}

impl Slapd {
    pub fn start() -> Slapd {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("bash")
            .arg(fixtures().join("ldap/start-slapd.sh"))
            .arg(dir.path())
            .arg(port.to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("slapd fixture (apt-get install slapd ldap-utils; `cargo xtask test` does)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(20), "slapd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Slapd {
            child,
            _dir: dir,
            url: format!("ldap://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running OpenID provider, killed on drop.
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

impl OidcProvider {
    /// Starts the provider with `clients` and `users` (see the fixture's README).
    pub fn start(clients: Value, users: Value) -> OidcProvider {
        let mut child = Command::new("node")
            .arg(fixtures().join("oidc/server.mjs"))
            .env("OIDC_PORT", "0")
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_USERS", users.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let issuer = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the OIDC fixture said {line:?} (run `npm ci` in tests/fixtures/oidc)"))
            .to_string();
        OidcProvider { child, issuer }
    }

    /// Signs `username` in at the provider, starting from the authorization
    /// URL the platform redirected to; returns where the provider finally
    /// sends the browser (the platform's callback), or the status and page
    /// of a refused login.
    pub async fn sign_in(&self, authorize: &str, username: &str, password: &str) -> Result<String, (u16, String)> {
        let agent = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let absolute = |location: &str| {
            if location.starts_with('/') {
                format!("{}{location}", self.issuer)
            } else {
                location.to_string()
            }
        };
        let location = |r: &reqwest::Response| absolute(r.headers()["location"].to_str().unwrap());
        let response = agent.get(authorize).send().await.unwrap();
        assert_eq!(response.status(), 303, "{authorize}");
        let interaction = location(&response);
        let form = agent.get(&interaction).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let response = agent
            .post(format!("{interaction}/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        if response.status() != 303 {
            return Err((response.status().as_u16(), response.text().await.unwrap()));
        }
        let mut next = location(&response);
        while next.starts_with(&self.issuer) {
            let response = agent.get(&next).send().await.unwrap();
            assert_eq!(response.status(), 303, "{next}");
            next = location(&response);
        }
        Ok(next)
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
