//! Signing in with a tenant's identity providers, against real servers: an
//! OpenLDAP directory and an OpenID Connect provider. Groups map to roles;
//! wrong passwords, unmapped groups, replayed or forged callbacks are refused.

use reqwest::Method;
use serde_json::{Value, json};

use crate::backends::{Backend, Platform, on_both_backends};
use crate::idp::{OidcProvider, Slapd};
use crate::support::ADMIN;

on_both_backends!(ldap_users_sign_in_with_their_groups_roles, oidc_users_sign_in_with_pkce,);

fn roles() -> Value {
    json!([
        { "group": "pa-admins", "role": "admin" },
        { "group": "pa-viewers", "role": "viewer" },
    ])
}

async fn ldap_users_sign_in_with_their_groups_roles(backend: Backend) {
    let slapd = Slapd::start();
    let platform = Platform::start(backend);
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    let config = json!({
        "kind": "ldap",
        "url": slapd.url,
        "user_dn": "uid={username},ou=people,dc=example,dc=org",
        "group_base": "ou=groups,dc=example,dc=org",
        "roles": roles(),
    });
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/identity-providers/corp",
            config.clone(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin
        .send(Method::GET, "/api/v1/auth/providers?tenant=acme", None)
        .await;
    assert_eq!(
        (status, &body["providers"]),
        (200, &json!([{ "name": "corp", "kind": "ldap" }]))
    );

    let anonymous = platform.api("");
    let login = |username: &str, password: &str| {
        let anonymous = anonymous.clone();
        let body = json!({ "tenant": "acme", "provider": "corp", "username": username, "password": password });
        async move { anonymous.send_json(Method::POST, "/api/v1/auth/ldap/login", body).await }
    };

    // alice is in pa-admins: an admin of acme, with the platform's own tokens.
    let (status, alice) = login("alice", "alice-pass").await;
    assert_eq!(status, 200, "{alice}");
    assert_eq!(
        (alice["role"].as_str(), alice["tenant"].as_str()),
        (Some("admin"), Some("acme"))
    );
    assert_eq!(alice["user"]["provider"], "ldap");
    let alice_api = platform.api(alice["access_token"].as_str().unwrap());
    let (status, me) = alice_api.send(Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["tenants"][0]["role"], "admin", "{me}");
    let (status, body) = alice_api
        .send_json(Method::POST, "/api/v1/tenants/acme/api-keys", json!({}))
        .await;
    assert_eq!(status, 201, "an admin creates keys: {body}");
    // Signing in again is the same user.
    let (_, again) = login("alice", "alice-pass").await;
    assert_eq!(again["user"]["id"], alice["user"]["id"]);

    // bob is in pa-viewers: he may look, not upload.
    let (status, bob) = login("bob", "bob-pass").await;
    assert_eq!((status, bob["role"].as_str()), (200, Some("viewer")), "{bob}");
    let bob_api = platform.api(bob["access_token"].as_str().unwrap());
    assert_eq!(
        bob_api.send(Method::GET, "/api/v1/tenants/acme/plugins", None).await.0,
        200
    );
    let (status, _) = bob_api.upload("acme", "x", "1.0.0", b"\0asm".to_vec()).await;
    assert_eq!(status, 403);

    // carol's only group maps to no role.
    let (status, body) = login("carol", "carol-pass").await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("no group"),
        "{body}"
    );

    // Wrong, empty and unknown credentials are 401, and audited.
    for (username, password) in [("alice", "wrong"), ("alice", ""), ("nobody", "x"), ("*", "x")] {
        let (status, body) = login(username, password).await;
        assert_eq!(status, 401, "{username}/{password}: {body}");
    }
    let (status, body) = anonymous
        .send_json(
            Method::POST,
            "/api/v1/auth/ldap/login",
            json!({ "tenant": "acme", "provider": "nope", "username": "alice", "password": "alice-pass" }),
        )
        .await;
    assert_eq!(status, 404, "{body}");

    // A developer cannot set up a provider that hands out admin.
    let (_, dev) = admin
        .send_json(
            Method::POST,
            "/api/v1/tenants/acme/api-keys",
            json!({ "role": "developer" }),
        )
        .await;
    let (status, _) = platform
        .api(dev["key"].as_str().unwrap())
        .send_json(Method::PUT, "/api/v1/tenants/acme/identity-providers/sneaky", config)
        .await;
    assert_eq!(status, 403);

    // Bad settings are refused by name; a directory that is down is a 502.
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/identity-providers/bad",
            json!({ "kind": "ldap", "url": "http://x", "user_dn": "uid=x", "group_base": "o", "roles": roles() }),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    drop(slapd);
    let (status, body) = login("alice", "alice-pass").await;
    assert_eq!(status, 502, "{body}");
}

async fn oidc_users_sign_in_with_pkce(backend: Backend) {
    let platform = Platform::start(backend);
    let redirect_uri = format!("{}/api/v1/auth/oidc/callback", platform.pa.url);
    let provider = OidcProvider::start(
        json!([{ "client_id": "pa-acme", "client_secret": "acme-secret", "redirect_uris": [redirect_uri] }]),
        json!([
            { "username": "alice", "password": "alice-pass", "email": "alice@example.test", "groups": ["pa-admins"] },
            { "username": "bob", "password": "bob-pass", "groups": ["pa-viewers"] },
            { "username": "carol", "password": "carol-pass", "groups": ["other"] },
        ]),
    );
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    let (status, body) = admin
        .send_json(
            Method::PUT,
            "/api/v1/tenants/acme/identity-providers/sso",
            json!({
                "kind": "oidc",
                "issuer": provider.issuer,
                "client_id": "pa-acme",
                "client_secret": "acme-secret",
                "redirect_uri": redirect_uri,
                "roles": roles(),
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, listed) = admin
        .send(Method::GET, "/api/v1/tenants/acme/identity-providers", None)
        .await;
    assert_eq!(listed["providers"][0]["client_secret_set"], true, "{listed}");
    assert!(
        !listed.to_string().contains("acme-secret"),
        "secrets are never shown: {listed}"
    );

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = |return_to: &str| {
        let url = format!(
            "{}/api/v1/auth/oidc/start?tenant=acme&provider=sso{return_to}",
            platform.pa.url
        );
        let browser = browser.clone();
        async move {
            let response = browser.get(url).send().await.unwrap();
            assert_eq!(response.status(), 303);
            response.headers()["location"].to_str().unwrap().to_string()
        }
    };

    // The platform sends the browser to the provider with PKCE (S256), state and nonce.
    let authorize = start("").await;
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    for parameter in [
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "client_id=pa-acme",
    ] {
        assert!(authorize.contains(parameter), "{parameter} missing from {authorize}");
    }
    // A wrong password stays at the provider.
    let (status, page) = provider.sign_in(&authorize, "alice", "wrong").await.unwrap_err();
    assert!(
        status == 401 && page.contains("invalid username or password"),
        "{status}"
    );

    let callback = provider.sign_in(&start("").await, "alice", "alice-pass").await.unwrap();
    assert!(callback.starts_with(&redirect_uri), "{callback}");
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let alice: Value = response.json().await.unwrap();
    assert_eq!(
        (alice["role"].as_str(), alice["user"]["provider"].as_str()),
        (Some("admin"), Some("oidc"))
    );
    let alice_api = platform.api(alice["access_token"].as_str().unwrap());
    let (status, me) = alice_api.send(Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!((status, &me["tenants"][0]["role"]), (200, &json!("admin")), "{me}");

    // A callback is used once; a made-up state is refused.
    let replay = browser.get(&callback).send().await.unwrap();
    assert_eq!(replay.status(), 401);
    let forged = callback.replace("state=", "state=forged");
    assert_eq!(browser.get(&forged).send().await.unwrap().status(), 401);

    // With return_to, the browser goes back to the platform with the tokens in the fragment.
    let callback = provider
        .sign_in(&start("&return_to=/console").await, "bob", "bob-pass")
        .await
        .unwrap();
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let back = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        back.starts_with("/console#access_token=") && back.contains("tenant=acme"),
        "{back}"
    );
    let token = back.split("access_token=").nth(1).unwrap().split('&').next().unwrap();
    let bob_api = platform.api(token);
    let (status, me) = bob_api.send(Method::GET, "/api/v1/auth/me", None).await;
    assert_eq!((status, &me["tenants"][0]["role"]), (200, &json!("viewer")), "{me}");

    // An unmapped group is refused; another site as return_to is refused up front.
    let callback = provider.sign_in(&start("").await, "carol", "carol-pass").await.unwrap();
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 403);
    let url = format!(
        "{}/api/v1/auth/oidc/start?tenant=acme&provider=sso&return_to=//evil.example",
        platform.pa.url
    );
    assert_eq!(browser.get(url).send().await.unwrap().status(), 400);

    // The provider's refusal (here: the user denied) comes back as 401.
    let authorize = start("").await;
    let state = authorize.split("state=").nth(1).unwrap().split('&').next().unwrap();
    let denied = format!("{redirect_uri}?error=access_denied&state={state}");
    assert_eq!(browser.get(denied).send().await.unwrap().status(), 401);
}
