//! The control plane through the real binary, each story on SQLite and on
//! PostgreSQL: every endpoint × every role × own/other tenant, sign-in and
//! tokens, API key lifecycle, custom roles, and the tamper-evident audit log.

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::backends::{Backend, Platform, SECRET, on_both_backends};
use crate::idp::{OidcProvider, Slapd};
use crate::support::{ADMIN, Api, guest_bytes};

on_both_backends!(
    every_endpoint_admits_exactly_the_roles_that_hold_its_permission,
    users_sign_in_and_bad_credentials_get_401,
    the_audit_log_records_actions_and_detects_tampering,
);

/// One row of the endpoint table in docs/permissions.md.
struct Endpoint {
    method: Method,
    path: String,
    access: String,
}

const DOCS: &str = include_str!("../../docs/permissions.md");

fn documented_endpoints() -> Vec<Endpoint> {
    let rows: Vec<Endpoint> = DOCS
        .lines()
        .filter(|l| {
            l.starts_with("| GET ") || l.starts_with("| POST ") || l.starts_with("| PUT ") || l.starts_with("| DELETE ")
        })
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Endpoint {
                method: cells[1].parse().unwrap(),
                path: cells[2].trim_matches('`').to_string(),
                access: cells[3].trim_matches('`').to_string(),
            }
        })
        .collect();
    assert!(
        rows.len() > 20,
        "the endpoint table of docs/permissions.md was not found"
    );
    rows
}

/// Role name → permissions, from the role table of docs/permissions.md.
fn documented_roles() -> HashMap<&'static str, Vec<String>> {
    let roles = ["admin", "developer", "operator", "viewer"];
    let mut held: HashMap<&str, Vec<String>> = roles.iter().map(|r| (*r, Vec::new())).collect();
    for line in DOCS.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let permission = cells[1].split('`').nth(1).unwrap().to_string();
        for (i, role) in roles.iter().enumerate() {
            if cells[2 + i] == "✓" {
                held.get_mut(role).unwrap().push(permission.clone());
            }
        }
    }
    held
}

/// A concrete request for a documented endpoint in `tenant`, after setting up
/// what it acts on (as the platform admin, so every caller finds the same state).
async fn request_for(admin: &Api, idps: &Idps, e: &Endpoint, tenant: &str, n: u32) -> (String, Option<Vec<u8>>) {
    let plugin = if tenant == "acme" { "alpha" } else { "beta" };
    let t = format!("/api/v1/tenants/{tenant}");
    let body = |v: Value| Some(v.to_string().into_bytes());
    let login = || async {
        let (status, pair) = admin
            .send_json(
                Method::POST,
                "/api/v1/auth/login",
                json!({"username": "ada", "password": "correct-horse"}),
            )
            .await;
        assert_eq!(status, 200, "{pair}");
        pair["refresh_token"].as_str().unwrap().to_string()
    };
    let relative = e.path.strip_prefix("/api/v1/tenants/{tenant}");
    match (e.method.as_str(), relative.unwrap_or(&e.path)) {
        ("POST", "/api/v1/auth/login") => (
            e.path.clone(),
            body(json!({"username": "ada", "password": "correct-horse"})),
        ),
        ("POST", "/api/v1/auth/refresh") | ("POST", "/api/v1/auth/logout") => {
            (e.path.clone(), body(json!({ "refresh_token": login().await })))
        }
        ("GET", "/api/v1/auth/me") | ("GET", "/api/v1/openapi.json") => (e.path.clone(), None),
        ("POST", "/api/v1/users") => (
            e.path.clone(),
            body(json!({"username": format!("user{n}"), "password": "long enough"})),
        ),
        ("GET", "/api/v1/tenants") => (e.path.clone(), None),
        ("POST", "/api/v1/tenants") => (e.path.clone(), body(json!({ "id": format!("tenant{n}") }))),
        ("GET", "/plugins") => (format!("{t}/plugins"), None),
        ("PUT", "/plugins/{name}/versions/{version}") => (
            format!("{t}/plugins/gamma/versions/1.0.{n}"),
            Some(guest_bytes("hello_p2.wasm")),
        ),
        ("GET", "/plugins/{name}/logs") => (format!("{t}/plugins/{plugin}/logs"), None),
        ("GET", "/monitoring") => (format!("{t}/monitoring"), None),
        ("GET", "/plugins/{name}/versions/{version}") => (format!("{t}/plugins/{plugin}/versions/1.0.0"), None),
        ("POST", "/plugins/{name}/enable") => (
            format!("{t}/plugins/{plugin}/enable"),
            body(json!({"version": "1.0.0"})),
        ),
        ("POST", "/plugins/{name}/disable") => {
            let (status, _) = admin
                .send_json(
                    Method::POST,
                    &format!("{t}/plugins/{plugin}/enable"),
                    json!({"version": "1.0.0"}),
                )
                .await;
            assert_eq!(status, 200);
            (format!("{t}/plugins/{plugin}/disable"), None)
        }
        ("GET", "/api-keys") => (format!("{t}/api-keys"), None),
        ("POST", "/api-keys") => (
            format!("{t}/api-keys"),
            body(json!({"role": "viewer", "name": "matrix"})),
        ),
        ("DELETE", "/api-keys/{id}") => {
            let (status, key) = admin
                .send_json(Method::POST, &format!("{t}/api-keys"), json!({"role": "viewer"}))
                .await;
            assert_eq!(status, 201);
            (format!("{t}/api-keys/{}", key["id"].as_str().unwrap()), None)
        }
        ("GET", "/members") => (format!("{t}/members"), None),
        ("PUT", "/members/{username}") => (
            format!("{t}/members/member{n}"),
            body(json!({"role": "viewer", "password": "long enough"})),
        ),
        ("DELETE", "/members/{username}") => {
            let (status, _) = admin
                .send_json(Method::PUT, &format!("{t}/members/ada"), json!({"role": "viewer"}))
                .await;
            assert_eq!(status, 200);
            (format!("{t}/members/ada"), None)
        }
        ("GET", "/roles") => (format!("{t}/roles"), None),
        ("PUT", "/roles/{role}") => (
            format!("{t}/roles/role{n}"),
            body(json!({"permissions": ["plugin.read"]})),
        ),
        ("DELETE", "/roles/{role}") => {
            let role = format!("role{n}");
            let (status, _) = admin
                .send_json(
                    Method::PUT,
                    &format!("{t}/roles/{role}"),
                    json!({"permissions": ["plugin.read"]}),
                )
                .await;
            assert_eq!(status, 200);
            (format!("{t}/roles/{role}"), None)
        }
        ("GET", "/teams") => (format!("{t}/teams"), None),
        ("PUT", "/teams/{team}") => (format!("{t}/teams/team{n}"), body(json!({"name": "Team"}))),
        ("DELETE", "/teams/{team}") => {
            let (status, _) = admin
                .send_json(Method::PUT, &format!("{t}/teams/team{n}"), json!({"name": "Team"}))
                .await;
            assert_eq!(status, 200);
            (format!("{t}/teams/team{n}"), None)
        }
        ("PUT", "/teams/{team}/members/{username}") | ("DELETE", "/teams/{team}/members/{username}") => {
            let (status, _) = admin
                .send_json(Method::PUT, &format!("{t}/members/ada"), json!({"role": "viewer"}))
                .await;
            assert_eq!(status, 200);
            let (status, _) = admin
                .send_json(Method::PUT, &format!("{t}/teams/crew"), json!({"name": "Crew"}))
                .await;
            assert_eq!(status, 200);
            let (status, _) = admin
                .send(Method::PUT, &format!("{t}/teams/crew/members/ada"), None)
                .await;
            assert_eq!(status, 200);
            (format!("{t}/teams/crew/members/ada"), None)
        }
        ("GET", "/audit") => (format!("{t}/audit"), None),
        ("GET", "/api/v1/plans") => (e.path.clone(), None),
        ("GET", "/api/v1/first-party") => (e.path.clone(), None),
        ("POST", "/first-party/{name}/enable") => (format!("{t}/first-party/smartui/enable"), None),
        ("PUT", "/api/v1/plans/{plan}") => (
            format!("/api/v1/plans/plan{n}"),
            body(json!({"currency": "USD", "monthly_price_cents": 100})),
        ),
        ("PUT", "/plan") => (format!("{t}/plan"), body(json!({"plan": "default"}))),
        ("GET", "/usage") => (format!("{t}/usage"), None),
        ("GET", "/invoices/{period}") => (format!("{t}/invoices/2000-01"), None),
        ("GET", "/identity-providers") => (format!("{t}/identity-providers"), None),
        ("PUT", "/identity-providers/{provider}") => {
            (format!("{t}/identity-providers/idp{n}"), body(ldap_config(idps)))
        }
        ("DELETE", "/identity-providers/{provider}") => {
            let (status, _) = admin
                .send_json(
                    Method::PUT,
                    &format!("{t}/identity-providers/idp{n}"),
                    ldap_config(idps),
                )
                .await;
            assert_eq!(status, 200);
            (format!("{t}/identity-providers/idp{n}"), None)
        }
        ("GET", "/api/v1/auth/providers") => (format!("{}?tenant={tenant}", e.path), None),
        ("POST", "/api/v1/auth/ldap/login") => (
            e.path.clone(),
            body(json!({"tenant": "acme", "provider": "corp", "username": "alice", "password": "alice-pass"})),
        ),
        ("GET", "/api/v1/auth/oidc/start") => (format!("{}?tenant=acme&provider=sso", e.path), None),
        ("GET", "/api/v1/auth/oidc/callback") => {
            let (status, authorize) = idps.start_oidc(admin).await;
            assert_eq!(status, 303);
            let callback = idps.oidc.sign_in(&authorize, "alice", "alice-pass").await.unwrap();
            (callback.strip_prefix(&admin.url).unwrap().to_string(), None)
        }
        ("GET", "/workflows") => (format!("{t}/workflows"), None),
        ("PUT", "/workflows/{workflow}") => (format!("{t}/workflows/flow{n}"), body(gate_workflow())),
        ("GET", "/workflows/{workflow}") => {
            save_workflow(admin, tenant, "gate").await;
            (format!("{t}/workflows/gate"), None)
        }
        ("POST", "/workflows/{workflow}/runs") => {
            save_workflow(admin, tenant, "gate").await;
            (format!("{t}/workflows/gate/runs"), body(json!({"input": {"n": n}})))
        }
        ("GET", "/runs") => (format!("{t}/runs"), None),
        ("GET", "/runs/{run}/events") | ("POST", "/runs/{run}/retry") => {
            let run = ended_run(admin, tenant).await;
            let action = e.path.rsplit('/').next().unwrap();
            (format!("{t}/runs/{run}/{action}"), None)
        }
        ("POST", "/orchestrator/plan") => (
            format!("{t}/orchestrator/plan"),
            body(json!({"requirement": "Extract the name and date from forms"})),
        ),
        ("GET", "/model-provider") | ("DELETE", "/model-provider") => {
            let path = format!("{t}/model-provider");
            let (status, body) = admin.send_json(Method::PUT, &path, model_provider()).await;
            assert_eq!(status, 200, "{body}");
            (path, None)
        }
        ("PUT", "/model-provider") => (format!("{t}/model-provider"), body(model_provider())),
        ("GET", "/sites") => (format!("{t}/sites"), None),
        ("GET", "/sites/{site}") => {
            published_site(admin, tenant).await;
            (format!("{t}/sites/pages"), None)
        }
        ("POST", "/sites/{site}/rollback") => {
            published_site(admin, tenant).await;
            (format!("{t}/sites/pages/rollback"), body(json!({"version": 1})))
        }
        ("GET", "/runs/{run}") | ("POST", "/runs/{run}/cancel") => {
            let run = waiting_run(admin, tenant).await;
            let action = if e.method == Method::GET { "" } else { "/cancel" };
            (format!("{t}/runs/{run}{action}"), None)
        }
        ("POST", "/runs/{run}/steps/{step}/approve") | ("POST", "/runs/{run}/steps/{step}/reject") => {
            let run = waiting_run(admin, tenant).await;
            let decision = e.path.rsplit('/').next().unwrap();
            (
                format!("{t}/runs/{run}/steps/gate/{decision}"),
                body(json!({"comment": "matrix"})),
            )
        }
        ("GET", "/mcp") => (format!("{t}/mcp"), None),
        ("PUT", "/mcp") => (format!("{t}/mcp"), body(json!({"access": "api-key"}))),
        (method, path) => panic!("docs/permissions.md lists {method} {path}: add a case for it to this test"),
    }
}

/// A workflow of one approval step, which waits until someone decides.
fn gate_workflow() -> Value {
    json!({"description": "waits for a decision", "steps": [{"id": "gate", "approval": {"message": "go?"}}]})
}

async fn save_workflow(admin: &Api, tenant: &str, name: &str) {
    let path = format!("/api/v1/tenants/{tenant}/workflows/{name}");
    let (status, body) = admin.send_json(Method::PUT, &path, gate_workflow()).await;
    assert_eq!(status, 201, "{body}");
}

/// A run of the gate workflow in `tenant` whose approval step is waiting.
async fn waiting_run(admin: &Api, tenant: &str) -> String {
    save_workflow(admin, tenant, "gate").await;
    let (status, run) = admin
        .send_json(
            Method::POST,
            &format!("/api/v1/tenants/{tenant}/workflows/gate/runs"),
            json!({}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap().to_string();
    crate::workflows::wait_for_run(admin, tenant, &id, |run| run["steps"][0]["state"] == "waiting").await;
    id
}

/// A run of the gate workflow in `tenant` that was cancelled.
async fn ended_run(admin: &Api, tenant: &str) -> String {
    let run = waiting_run(admin, tenant).await;
    let path = format!("/api/v1/tenants/{tenant}/runs/{run}/cancel");
    let (status, body) = admin.send(Method::POST, &path, None).await;
    assert_eq!(status, 200, "{body}");
    run
}

fn model_provider() -> Value {
    json!({"base_url": "https://models.example.com/v1", "model": "matrix", "api_key": "sk-matrix"})
}

/// Site `pages` of `tenant`, published by a workflow step.
pub(crate) async fn published_site(admin: &Api, tenant: &str) {
    let grants = json!({"grants": {"key_value_stores": ["default"], "sites": ["pages"]}});
    admin
        .deploy(tenant, "publisher", "1.0.0", "test_step.wasm", grants)
        .await;
    let files = json!({"index.html": "<h1>pages</h1>"});
    let definition = json!({"steps": [{"id": "publish", "component": {"plugin": "publisher", "input": {"publish": {"site": "pages", "files": files}}}}]});
    let path = format!("/api/v1/tenants/{tenant}/workflows/publish");
    let (status, body) = admin.send_json(Method::PUT, &path, definition).await;
    assert_eq!(status, 201, "{body}");
    let (status, run) = admin.send_json(Method::POST, &format!("{path}/runs"), json!({})).await;
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap();
    let run = crate::workflows::wait_for_run(admin, tenant, id, |r| r["state"] != "running").await;
    assert_eq!(run["state"], "succeeded", "{run}");
}

/// The identity providers of the matrix: `corp` (LDAP) and `sso` (OIDC) in acme.
struct Idps {
    slapd: Slapd,
    oidc: OidcProvider,
}

impl Idps {
    async fn start(admin: &Api) -> Idps {
        let redirect_uri = format!("{}/api/v1/auth/oidc/callback", admin.url);
        let idps = Idps {
            slapd: Slapd::start(),
            oidc: OidcProvider::start(
                json!([{ "client_id": "pa", "redirect_uris": [redirect_uri] }]),
                json!([{ "username": "alice", "password": "alice-pass", "groups": ["pa-viewers"] }]),
            ),
        };
        let (status, body) = admin
            .send_json(
                Method::PUT,
                "/api/v1/tenants/acme/identity-providers/corp",
                ldap_config(&idps),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let oidc = json!({
            "kind": "oidc",
            "issuer": idps.oidc.issuer,
            "client_id": "pa",
            "redirect_uri": redirect_uri,
            "roles": [{ "group": "pa-viewers", "role": "viewer" }],
        });
        let (status, body) = admin
            .send_json(Method::PUT, "/api/v1/tenants/acme/identity-providers/sso", oidc)
            .await;
        assert_eq!(status, 200, "{body}");
        idps
    }

    /// Starts an OIDC sign-in; its status and the provider URL it sends to.
    async fn start_oidc(&self, admin: &Api) -> (u16, String) {
        let response = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}/api/v1/auth/oidc/start?tenant=acme&provider=sso", admin.url))
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (response.status().as_u16(), location.unwrap_or_default())
    }
}

fn ldap_config(idps: &Idps) -> Value {
    json!({
        "kind": "ldap",
        "url": idps.slapd.url,
        "user_dn": "uid={username},ou=people,dc=example,dc=org",
        "group_base": "ou=groups,dc=example,dc=org",
        "roles": [{ "group": "pa-viewers", "role": "viewer" }, { "group": "pa-admins", "role": "viewer" }],
    })
}

/// Whether `caller` (a role of `acme`, `platform` or `none`) may call `e` in `tenant`.
fn allowed(e: &Endpoint, caller: &str, tenant: &str, roles: &HashMap<&str, Vec<String>>) -> bool {
    match (e.access.as_str(), caller) {
        ("public", _) => true,
        (_, "none") => false,
        ("signed in", _) => true,
        ("platform admin", c) => c == "platform",
        (_, "platform") => true,
        (permission, role) => tenant == "acme" && roles[role].iter().any(|p| p == permission),
    }
}

async fn every_endpoint_admits_exactly_the_roles_that_hold_its_permission(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    let roles = documented_roles();
    admin
        .tenants_with_plugin(&[("acme", "alpha"), ("globex", "beta")])
        .await;
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/members/ada",
            json!({"role": "viewer", "password": "correct-horse"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let mut callers = vec![("none", String::new()), ("platform", ADMIN.to_string())];
    for role in ["admin", "developer", "operator", "viewer"] {
        callers.push((role, admin.create_key("acme", role).await));
    }
    let idps = Idps::start(&admin).await;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut n = 0;
    let mut checked = 0;
    for e in documented_endpoints() {
        for tenant in ["acme", "globex"] {
            if !e.path.contains("{tenant}") && tenant == "globex" {
                continue;
            }
            for (caller, token) in &callers {
                n += 1;
                let (path, body) = request_for(&admin, &idps, &e, tenant, n).await;
                let mut request = no_redirects.request(e.method.clone(), format!("{}{path}", platform.pa.url));
                if !token.is_empty() {
                    request = request.bearer_auth(token);
                }
                if let Some(body) = body {
                    request = request.body(body);
                }
                let response = request.send().await.unwrap();
                let status = response.status().as_u16();
                let text = response.text().await.unwrap();
                let expected = if allowed(&e, caller, tenant, &roles) {
                    "2xx"
                } else if *caller == "none" {
                    "401"
                } else {
                    "403"
                };
                let got = match status {
                    // 303: a sign-in sent on to the identity provider.
                    200..=299 | 303 => "2xx",
                    401 => "401",
                    403 => "403",
                    _ => "other",
                };
                assert_eq!(
                    got, expected,
                    "{} {path} as {caller} ({backend:?}): {status} {text}",
                    e.method
                );
                if *caller != "platform" && tenant == "acme" {
                    assert!(!text.contains("beta"), "acme's {path} shows globex data: {text}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "{checked} calls checked");
}

fn jwt_key() -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"pa/jwt");
    mac.finalize().into_bytes().to_vec()
}

fn craft_token(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&jwt_key()),
    )
    .unwrap()
}

async fn status_with(platform: &Platform, token: &str, path: &str) -> (u16, Value) {
    platform.api(token).send(Method::GET, path, None).await
}

async fn users_sign_in_and_bad_credentials_get_401(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    admin.create_tenant("globex").await;
    let (status, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/users",
            json!({"username": "ada", "password": "correct-horse"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body.get("password_hash").is_none(), "{body}");
    let (status, _) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/members/ada",
            json!({"role": "developer"}),
        )
        .await;
    assert_eq!(status, 200);

    let anonymous = platform.api("");
    let login = |password: &'static str| {
        let anonymous = anonymous.clone();
        async move {
            anonymous
                .send_json(
                    Method::POST,
                    "/api/v1/auth/login",
                    json!({"username": "ada", "password": password}),
                )
                .await
        }
    };
    let (status, body) = login("wrong password").await;
    assert_eq!(status, 401, "{body}");
    let (status, body) = anonymous
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            json!({"username": "a\u{0}b", "password": "whatever"}),
        )
        .await;
    assert_eq!(status, 401, "a NUL in the username is just a wrong username: {body}");
    assert_eq!(
        status_with(&platform, ADMIN, "/api/v1/tenants/acme/audit?action=%00")
            .await
            .0,
        400
    );
    assert_eq!(body["error"]["message"], "wrong username or password");
    let (status, pair) = login("correct-horse").await;
    assert_eq!(status, 200, "{pair}");
    let access = pair["access_token"].as_str().unwrap().to_string();
    let refresh = pair["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(pair["token_type"], "Bearer");

    let (status, me) = status_with(&platform, &access, "/api/v1/auth/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["user"]["username"], "ada");
    assert_eq!(me["tenants"][0]["tenant"], "acme");
    assert!(
        me["tenants"][0]["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("plugin.upload"))
    );
    assert_eq!(
        status_with(&platform, &access, "/api/v1/tenants/acme/plugins").await.0,
        200
    );
    assert_eq!(
        status_with(&platform, &access, "/api/v1/tenants/globex/plugins")
            .await
            .0,
        403
    );
    assert_eq!(
        status_with(&platform, &access, "/api/v1/tenants/acme/api-keys").await.0,
        403
    );

    // A tampered token, a token signed with another key, an expired one.
    let mut tampered = access.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let user_id = me["user"]["id"].as_str().unwrap();
    let now = std::time::SystemTime::UNIX_EPOCH.elapsed().unwrap().as_secs();
    let claims = |exp: u64| json!({"sub": user_id, "name": "ada", "iss": "powerautomation", "aud": "pa-api", "iat": now - 100, "exp": exp});
    let expired = craft_token(claims(now - 10));
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(now + 600),
        &jsonwebtoken::EncodingKey::from_secret(b"not the platform key"),
    )
    .unwrap();
    assert_eq!(
        status_with(&platform, &craft_token(claims(now + 600)), "/api/v1/auth/me")
            .await
            .0,
        200
    );
    for (what, token) in [("tampered", tampered), ("expired", expired), ("forged", forged)] {
        let (status, body) = status_with(&platform, &token, "/api/v1/tenants/acme/plugins").await;
        assert_eq!(status, 401, "{what} token: {body}");
        let response = admin
            .http
            .post(format!("{}/t/acme/mcp", platform.pa.url))
            .bearer_auth(&token)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{what} token at the MCP endpoint");
        assert!(response.headers().contains_key("www-authenticate"));
    }

    // Refresh rotates; presenting a spent refresh token signs the session out.
    let refresh_with = |token: String| {
        let anonymous = anonymous.clone();
        async move {
            anonymous
                .send_json(Method::POST, "/api/v1/auth/refresh", json!({ "refresh_token": token }))
                .await
        }
    };
    let (status, second) = refresh_with(refresh.clone()).await;
    assert_eq!(status, 200, "{second}");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(second_refresh, refresh);
    assert_eq!(
        status_with(&platform, second["access_token"].as_str().unwrap(), "/api/v1/auth/me")
            .await
            .0,
        200
    );
    let (status, body) = refresh_with(refresh).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("already used"));
    assert_eq!(
        refresh_with(second_refresh).await.0,
        401,
        "the whole family is signed out"
    );
    let (_, third) = login("correct-horse").await;
    let third_refresh = third["refresh_token"].as_str().unwrap().to_string();
    let (status, _) = anonymous
        .send_json(
            Method::POST,
            "/api/v1/auth/logout",
            json!({ "refresh_token": third_refresh }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(refresh_with(third_refresh).await.0, 401, "signed out");

    // API keys: revoked and expired keys get 401, everywhere.
    let (status, key) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"role": "developer", "name": "ci"}),
        )
        .await;
    assert_eq!(status, 201);
    let token = key["key"].as_str().unwrap().to_string();
    assert_eq!(
        status_with(&platform, &token, "/api/v1/tenants/acme/plugins").await.0,
        200
    );
    let (status, listed) = status_with(&platform, ADMIN, "/api/v1/tenants/acme/api-keys").await;
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(&token), "keys are never shown again");
    assert!(
        listed["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == key["id"] && k["name"] == "ci")
    );
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/tenants/acme/api-keys/{}", key["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = status_with(&platform, &token, "/api/v1/tenants/acme/plugins").await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("revoked"), "{body}");
    let (status, body) = admin
        .send(Method::DELETE, "/api/v1/tenants/globex/api-keys/nope", None)
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, key) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"role": "viewer", "expires_in_secs": 2}),
        )
        .await;
    assert_eq!(status, 201, "{key}");
    assert!(key["expires_at"].as_str().unwrap().ends_with('Z'), "{key}");
    let expiring = key["key"].as_str().unwrap().to_string();
    assert_eq!(
        status_with(&platform, &expiring, "/api/v1/tenants/acme/plugins")
            .await
            .0,
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let (status, body) = status_with(&platform, &expiring, "/api/v1/tenants/acme/plugins").await;
    assert_eq!(status, 401);
    assert!(body["error"]["message"].as_str().unwrap().contains("expired"), "{body}");
    let (status, body) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"expires_in_secs": 0}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = admin
        .send_json(Method::POST, "/api/v1/tenants/acme/api-keys", json!({"role": "nobody"}))
        .await;
    assert_eq!(status, 404, "{body}");

    // Teams pass their roles down the tree to their members.
    let (status, _) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/members/bob",
            json!({"role": "viewer", "password": "bob-password"}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/teams/eng",
            json!({"name": "Engineering", "role": "developer"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/teams/web",
            json!({"name": "Web", "parent": "eng"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/teams/eng",
            json!({"name": "Engineering", "parent": "web"}),
        )
        .await;
    assert_eq!(status, 409, "no loops: {body}");
    let (_, bob) = anonymous
        .send_json(
            Method::POST,
            "/api/v1/auth/login",
            json!({"username": "bob", "password": "bob-password"}),
        )
        .await;
    let bob = bob["access_token"].as_str().unwrap().to_string();
    let upload = |token: String| {
        let api = platform.api(&token);
        async move {
            api.upload("acme", "bobs", "1.0.0", guest_bytes("hello_p2.wasm"))
                .await
                .0
        }
    };
    assert_eq!(upload(bob.clone()).await, 403, "a viewer cannot upload");
    let (status, _) = admin
        .send(Method::PUT, "/api/v1/tenants/acme/teams/web/members/bob", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        upload(bob.clone()).await,
        201,
        "web is under eng, whose role is developer"
    );
    let (status, teams) = status_with(&platform, &bob, "/api/v1/tenants/acme/teams").await;
    assert_eq!(status, 200);
    assert!(teams.to_string().contains("\"members\":[\"bob\"]"), "{teams}");
    let (_, me) = status_with(&platform, &bob, "/api/v1/auth/me").await;
    let acme = &me["tenants"][0];
    assert_eq!(
        (acme["tenant"].as_str(), acme["role"].as_str()),
        (Some("acme"), Some("viewer")),
        "{me}"
    );
    assert!(
        acme["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("plugin.upload")),
        "/auth/me says what the team's role adds: {me}"
    );
    let (status, _) = admin
        .send(Method::DELETE, "/api/v1/tenants/acme/teams/web/members/bob", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(upload(bob).await, 403, "out of the team, back to viewer");

    // Custom roles, and nobody grants more than they hold.
    let (status, role) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/roles/auditor",
            json!({"permissions": ["audit.read", "plugin.read"]}),
        )
        .await;
    assert_eq!(status, 200, "{role}");
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/roles/bad",
            json!({"permissions": ["plugin.delete"]}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("plugin.delete"));
    let (status, _) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/roles/admin",
            json!({"permissions": []}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, key) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"role": "auditor"}),
        )
        .await;
    assert_eq!(status, 201);
    let auditor = key["key"].as_str().unwrap().to_string();
    assert_eq!(
        status_with(&platform, &auditor, "/api/v1/tenants/acme/audit").await.0,
        200
    );
    assert_eq!(
        status_with(&platform, &auditor, "/api/v1/tenants/acme/members").await.0,
        403
    );
    let (status, _) = admin
        .send(Method::DELETE, "/api/v1/tenants/acme/roles/auditor", None)
        .await;
    assert_eq!(status, 409, "a role in use cannot be deleted");
    let (status, key) = admin
        .send_json(Method::POST, "/api/v1/tenants/acme/api-keys", json!({"role": "admin"}))
        .await;
    assert_eq!(status, 201);
    let tenant_admin = platform.api(key["key"].as_str().unwrap());
    let (status, _) = tenant_admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/roles/keymaker",
            json!({"permissions": ["key.manage"]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, key) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"role": "keymaker"}),
        )
        .await;
    assert_eq!(status, 201);
    let keymaker = platform.api(key["key"].as_str().unwrap());
    let (status, body) = keymaker
        .send_json(Method::POST, "/api/v1/tenants/acme/api-keys", json!({"role": "admin"}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("do not hold"),
        "{body}"
    );
    let (status, _) = keymaker
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({"role": "keymaker"}),
        )
        .await;
    assert_eq!(status, 201);
}

async fn audit(platform: &Platform, tenant: &str, query: &str) -> (u16, String) {
    let response = platform
        .api(ADMIN)
        .http
        .get(format!("{}/api/v1/tenants/{tenant}/audit?{query}", platform.pa.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn the_audit_log_records_actions_and_detects_tampering(backend: Backend) {
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    for tenant in ["edited", "cut", "swapped", "intact"] {
        let key = admin.create_tenant(tenant).await;
        let (status, _) = admin
            .upload(tenant, "alpha", "1.0.0", guest_bytes("hello_p2.wasm"))
            .await;
        assert_eq!(status, 201);
        let (status, _) = admin.enable(tenant, "alpha", json!({"version": "1.0.0"})).await;
        assert_eq!(status, 200);
        let (status, viewer) = platform
            .api(&key)
            .send_json(
                Method::POST,
                &format!("/api/v1/tenants/{tenant}/api-keys"),
                json!({"role": "viewer"}),
            )
            .await;
        assert_eq!(status, 201);
        let viewer = platform.api(viewer["key"].as_str().unwrap());
        assert_eq!(viewer.enable(tenant, "alpha", json!({"version": "1.0.0"})).await.0, 403);
    }

    let (status, text) = audit(&platform, "edited", "").await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let entries = body["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "key.create",
            "plugin.upload",
            "plugin.enable",
            "key.create",
            "plugin.enable"
        ]
    );
    let upload = &entries[1];
    let admin_id = &hex::encode(<Sha256 as sha2::Digest>::digest(ADMIN.as_bytes()))[..16];
    assert_eq!(upload["actor"], format!("key:{admin_id}"));
    assert_eq!(upload["target"], "/plugins/alpha/versions/1.0.0");
    assert_eq!(upload["outcome"], "success");
    assert_eq!(upload["source_ip"], "127.0.0.1");
    assert_eq!(upload["request_id"].as_str().unwrap().len(), 36, "{upload}");
    assert_eq!(entries[4]["outcome"], "denied");
    assert!(entries[4]["actor"].as_str().unwrap().starts_with("key:"));
    assert_ne!(
        entries[4]["actor"], upload["actor"],
        "the viewer's key, not the admin's"
    );
    assert!(!text.contains("\"cut\""), "only this tenant's entries");

    let (_, denied) = audit(&platform, "edited", "outcome=denied").await;
    assert_eq!(
        serde_json::from_str::<Value>(&denied).unwrap()["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, page) = audit(&platform, "edited", "after=2&limit=2").await;
    let page: Value = serde_json::from_str(&page).unwrap();
    assert_eq!(page["entries"][0]["seq"], 3);
    assert_eq!(page["next_after"], 4);
    let (_, lines) = audit(&platform, "edited", "format=jsonl").await;
    assert_eq!(lines.lines().count(), 5);
    assert!(lines.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
    let (_, csv) = audit(&platform, "edited", "format=csv&action=plugin.upload").await;
    let mut rows = csv.lines();
    assert!(
        rows.next()
            .unwrap()
            .starts_with("tenant,seq,at,actor,action,target,outcome"),
        "{csv}"
    );
    assert!(rows.next().unwrap().starts_with("edited,2,"), "{csv}");
    assert_eq!(audit(&platform, "edited", "format=xml").await.0, 400);
    assert_eq!(audit(&platform, "edited", "limit=0").await.0, 400);

    let (ok, report) = platform.verify(None);
    assert!(ok, "{report}");
    assert!(report.contains("edited: 5 rows, intact"), "{report}");
    assert!(report.contains("(platform): "), "{report}");

    platform
        .tamper("UPDATE audit SET outcome = 'success' WHERE tenant = 'edited' AND seq = 5")
        .await;
    platform
        .tamper("DELETE FROM audit WHERE tenant = 'cut' AND seq = 2")
        .await;
    platform
        .tamper(
            "UPDATE audit SET seq = 100 WHERE tenant = 'swapped' AND seq = 2; \
             UPDATE audit SET seq = 2 WHERE tenant = 'swapped' AND seq = 3; \
             UPDATE audit SET seq = 3 WHERE tenant = 'swapped' AND seq = 100;",
        )
        .await;
    let (ok, report) = platform.verify(None);
    assert!(!ok, "{report}");
    for tenant in ["edited", "cut", "swapped"] {
        assert!(
            report.contains(&format!("{tenant}: ")) && report.contains("TAMPERED"),
            "{report}"
        );
    }
    assert!(report.contains("intact: 5 rows, intact"), "{report}");
    assert!(report.contains("row 5 does not match"), "{report}");
    assert!(report.contains("row 2 is missing"), "{report}");
    assert!(report.contains("3 of"), "{report}");
    let (ok, report) = platform.verify(Some("intact"));
    assert!(ok, "{report}");
    let (ok, _) = platform.verify(Some("swapped"));
    assert!(!ok);
}
