//! The product orchestrator end to end: a requirement planned (by rules, or
//! by a local OpenAI-compatible model server whose key stays with the host)
//! and run as the OCR product workflow of six real agent components on
//! images rendered here with known text, through the quality gate and an
//! approval to a release — and in the website flavour, a published,
//! versioned site with rollback.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::backends::{Backend, Platform};
use crate::support::{ADMIN, Api, get};
use crate::workflows::wait_for_run;

const T: &str = "/api/v1/tenants/acme";

/// A PNG of `lines` in black on white, rendered by Pillow with DejaVu Sans.
fn render(lines: &[&str]) -> String {
    let script = r#"
import io, sys
from PIL import Image, ImageDraw, ImageFont
lines = sys.argv[1:]
font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
image = Image.new("L", (1100, 90 + 70 * len(lines)), 255)
draw = ImageDraw.Draw(image)
for i, line in enumerate(lines):
    draw.text((50, 45 + 70 * i), line, font=font, fill=0)
out = io.BytesIO()
image.save(out, format="PNG")
sys.stdout.buffer.write(out.getvalue())
"#;
    // Debian's Python, which has python3-pil.
    let output = std::process::Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(script)
        .args(lines)
        .output()
        .expect("python3 with Pillow (installed by cargo xtask)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    base64::engine::general_purpose::STANDARD.encode(output.stdout)
}

/// An invoice sample: its image and the fields printed on it.
fn invoice(name: &str, number: &str, date: &str, total: &str) -> Value {
    let lines = [
        "ACME Supplies Ltd".to_string(),
        format!("Invoice No: {number}"),
        format!("Date: {date}"),
        format!("Total: {total} EUR"),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    json!({
        "name": name,
        "image": render(&lines),
        "expected": {"invoice_number": number, "date": date, "total": total},
    })
}

/// Acme with the six agents, each granted only what it uses.
async fn tenant(platform: &Platform) -> Api {
    let admin = platform.api(ADMIN);
    admin.create_tenant("acme").await;
    let kv = || vec!["default"];
    let agents = [
        ("ocr-requirements", json!({"model": true})),
        ("ocr-design", json!({})),
        ("ocr-implementation", json!({"ocr": true})),
        ("ocr-testing", json!({})),
        ("ocr-release", json!({"key_value_stores": kv(), "sites": ["invoices"]})),
        ("ocr-operations", json!({"key_value_stores": kv()})),
    ];
    for (name, grants) in agents {
        let file = format!("{}.wasm", name.replace('-', "_"));
        admin
            .deploy("acme", name, "1.0.0", &file, json!({"grants": grants}))
            .await;
    }
    admin
}

async fn plan(api: &Api, requirement: &str, start: bool, input: Value) -> (u16, Value) {
    api.send_json(
        Method::POST,
        &format!("{T}/orchestrator/plan"),
        json!({"requirement": requirement, "start": start, "input": input}),
    )
    .await
}

fn step<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["steps"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()
}

/// Runs a started plan to its approval, approves, and waits for the end.
async fn approve_and_finish(api: &Api, run: &str) -> Value {
    let waiting = wait_for_run(api, "acme", run, |r| {
        r["state"] != "running" || step(r, "approval")["state"] == "waiting"
    })
    .await;
    assert_eq!(step(&waiting, "approval")["state"], "waiting", "{waiting}");
    let (status, body) = api
        .send_json(
            Method::POST,
            &format!("{T}/runs/{run}/steps/approval/approve"),
            json!({"comment": "ship it"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for_run(api, "acme", run, |r| r["state"] != "running").await
}

#[tokio::test]
async fn the_ocr_workflow_releases_only_what_passes_its_quality_gate() {
    let platform = Platform::start(Backend::Sqlite);
    let admin = tenant(&platform).await;
    let requirement = "Extract the invoice number, date and total from scanned invoices with 90% accuracy.";

    let (status, planned) = plan(&admin, requirement, false, json!({})).await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["template"], "ocr-experience");
    assert_eq!(planned["planner"], "rules");
    assert_eq!(
        planned["parameters"]["fields"],
        json!(["Invoice number", "Date", "Total"])
    );
    assert_eq!(planned["parameters"]["threshold"], json!(0.9));

    let samples = json!([
        invoice("inv-1", "A-1042", "2026-11-26", "1234.50"),
        invoice("inv-2", "B-77", "2026-10-01", "89.99"),
        invoice("inv-3", "C-3310", "2025-01-15", "15.00"),
    ]);
    let (status, started) = plan(&admin, requirement, true, json!({"samples": samples})).await;
    assert_eq!(status, 201, "{started}");
    let run_id = started["run"]["id"].as_str().unwrap().to_string();
    let run = approve_and_finish(&admin, &run_id).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    let report = &step(&run, "testing")["output"];
    assert!(report["accuracy"].as_f64().unwrap() >= 0.9, "{report}");
    assert_eq!(report["passed"], true);
    let extracted = &step(&run, "implementation")["output"];
    assert_eq!(extracted[0]["fields"]["invoice_number"], "A-1042", "{extracted}");
    assert_eq!(extracted[1]["fields"]["total"], "89.99", "{extracted}");
    assert_eq!(step(&run, "requirements")["output"]["analysis"]["model"], "builtin");
    assert_eq!(step(&run, "release")["output"]["version"], "1.0.0");
    let operations = &step(&run, "operations")["output"];
    assert_eq!(operations["version"], "1.0.0");
    assert_eq!(operations["status"], "healthy", "{operations}");
    assert_eq!(
        step(&run, "implementation")["input"][0]["name"],
        "inv-1",
        "inputs are recorded"
    );

    // Expected values the documents do not show: the gate stops the run before approval.
    let wrong = json!([
        {"name": "inv-1", "image": samples[0]["image"], "expected": {"invoice_number": "Z-1", "date": "1999-01-01", "total": "1.00"}},
    ]);
    let (status, started) = plan(&admin, requirement, true, json!({"samples": wrong})).await;
    assert_eq!(status, 201, "{started}");
    let failed = wait_for_run(&admin, "acme", started["run"]["id"].as_str().unwrap(), |r| {
        r["state"] != "running"
    })
    .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    let gate = step(&failed, "testing");
    assert_eq!(gate["attempt"], 1, "a failed gate is not retried");
    let error = gate["error"].as_str().unwrap();
    assert!(error.contains("below the threshold 0.900"), "{error}");
    assert!(
        error.contains(r#"invoice_number: expected "Z-1", got "A-1042""#),
        "{error}"
    );
    assert_eq!(step(&failed, "approval")["state"], "cancelled");

    // A failed run can be retried (same version and input; it fails the same way).
    let failed_id = failed["id"].as_str().unwrap();
    let (status, retried) = admin
        .send(Method::POST, &format!("{T}/runs/{failed_id}/retry"), None)
        .await;
    assert_eq!(status, 201, "{retried}");
    assert_eq!(retried["input"], failed["input"]);
    let (status, body) = admin
        .send(Method::POST, &format!("{T}/runs/{run_id}/retry"), None)
        .await;
    assert_eq!(status, 409, "a succeeded run is not retried: {body}");
}

#[tokio::test]
async fn the_website_flavour_publishes_a_versioned_site_that_can_be_rolled_back() {
    let platform = Platform::start(Backend::Sqlite);
    let admin = tenant(&platform).await;
    let requirement =
        "Publish a website called invoices showing the invoice number and total read from scanned invoices.";
    let (status, planned) = plan(&admin, requirement, false, json!({})).await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["template"], "ocr-website");
    assert_eq!(planned["parameters"]["site"], "invoices");

    let first = json!([invoice("march", "M-301", "2026-03-31", "410.00")]);
    let (_, started) = plan(&admin, requirement, true, json!({"samples": first})).await;
    let run = approve_and_finish(&admin, started["run"]["id"].as_str().unwrap()).await;
    assert_eq!(run["state"], "succeeded", "{run}");
    assert_eq!(step(&run, "release")["output"]["site_version"], 1);
    let site_url = format!("{}/t/acme/sites/invoices/", platform.pa.url);
    let page = reqwest::get(&site_url).await.unwrap();
    assert_eq!(page.status(), 200);
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.starts_with("sandbox"), "{policy}");
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("<td>M-301</td>"), "{html}");
    let (status, json_file) = get(&format!("{site_url}results.json")).await;
    assert_eq!(status, 200);
    assert!(json_file.contains("410.00"), "{json_file}");

    let second = json!([invoice("april", "A-402", "2026-04-30", "520.00")]);
    let (_, started) = plan(&admin, requirement, true, json!({"samples": second})).await;
    let run = approve_and_finish(&admin, started["run"]["id"].as_str().unwrap()).await;
    assert_eq!(step(&run, "release")["output"]["site_version"], 2);
    assert_eq!(step(&run, "release")["output"]["version"], "1.0.1");
    assert!(get(&site_url).await.1.contains("<td>A-402</td>"));

    let (status, site) = admin.send(Method::GET, &format!("{T}/sites/invoices"), None).await;
    assert_eq!(status, 200, "{site}");
    assert_eq!(site["live_version"], 2);
    assert_eq!(site["versions"].as_array().unwrap().len(), 2);
    assert_eq!(
        site["versions"][0]["files"],
        json!(["index.html", "results.json", "style.css"])
    );
    let (status, body) = admin
        .send_json(
            Method::POST,
            &format!("{T}/sites/invoices/rollback"),
            json!({"version": 1}),
        )
        .await;
    assert_eq!((status, body["live_version"].clone()), (200, json!(1)), "{body}");
    assert!(get(&site_url).await.1.contains("<td>M-301</td>"));
    let (status, body) = admin
        .send_json(
            Method::POST,
            &format!("{T}/sites/invoices/rollback"),
            json!({"version": 9}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(get(&format!("{site_url}nothing.html")).await.0, 404);

    // A site the release agent was not granted is refused, and nothing is published.
    let (_, started) = plan(
        &admin,
        requirement,
        true,
        json!({"samples": first, "site": "elsewhere"}),
    )
    .await;
    let run = approve_and_finish(&admin, started["run"]["id"].as_str().unwrap()).await;
    assert_eq!(run["state"], "failed", "{run}");
    let error = step(&run, "release")["error"].as_str().unwrap();
    assert!(error.contains("no grant to publish site `elsewhere`"), "{error}");
    assert_eq!(
        get(&format!("{}/t/acme/sites/elsewhere/", platform.pa.url)).await.0,
        404
    );
}

/// What the fake model server saw.
#[derive(Default)]
struct Seen {
    authorizations: Vec<String>,
    bodies: Vec<Value>,
}

/// An OpenAI-compatible chat server on loopback that answers plans and
/// summaries and refuses any key but `sk-test-123`.
async fn model_server() -> (u16, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, Json(body): Json<Value>| {
            let record = record.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                let mut seen = record.lock().unwrap();
                seen.authorizations.push(auth.clone());
                seen.bodies.push(body.clone());
                if auth != "Bearer sk-test-123" {
                    let error = json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}});
                    return (StatusCode::UNAUTHORIZED, Json(error));
                }
                let system = body["messages"][0]["content"].as_str().unwrap_or("");
                let content = if system.contains("You plan product workflows") {
                    json!({"template": "ocr-website", "parameters": {"site": "from-model", "threshold": 0.5}, "reasoning": "they want it online"})
                } else {
                    json!({"summary": "Read invoice numbers."})
                };
                let answer = json!({
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content.to_string()}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49},
                });
                (StatusCode::OK, Json(answer))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, seen)
}

#[tokio::test]
async fn a_model_provider_at_an_internal_address_is_refused_unless_the_operator_allows_it() {
    let platform = Platform::start(Backend::Sqlite);
    let admin = tenant(&platform).await;
    let (port, seen) = model_server().await;
    for internal in [
        format!("http://127.0.0.1:{port}/v1"),
        "http://[::1]/v1".into(),
        "http://169.254.169.254/v1".into(),
    ] {
        let provider = json!({"base_url": internal, "model": "test-model"});
        let (status, body) = admin
            .send_json(Method::PUT, &format!("{T}/model-provider"), provider)
            .await;
        assert_eq!(status, 400, "{internal}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--model-internal-hosts"),
            "{body}"
        );
    }
    // A name is checked when it is resolved: `localhost` is stored, and
    // refused when the planner asks the provider, which is never reached.
    let named = json!({"base_url": format!("http://localhost:{port}/v1"), "model": "test-model"});
    let (status, body) = admin
        .send_json(Method::PUT, &format!("{T}/model-provider"), named)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, planned) = plan(&admin, "Extract the invoice number", false, json!({})).await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["planner"], "rules", "{planned}");
    let reasoning = planned["reasoning"].as_str().unwrap();
    assert!(reasoning.contains("`localhost` is a loopback"), "{reasoning}");
    assert!(seen.lock().unwrap().bodies.is_empty(), "the provider was not reached");
}

#[tokio::test]
async fn a_tenant_model_plans_and_answers_agents_with_its_key_kept_by_the_host() {
    // The operator lets providers be on loopback (the test's model server).
    let platform = Platform::start_with(Backend::Sqlite, &["--model-internal-hosts", "127.0.0.1"]);
    let admin = tenant(&platform).await;
    let (port, seen) = model_server().await;
    let provider =
        json!({"base_url": format!("http://127.0.0.1:{port}/v1"), "model": "test-model", "api_key": "sk-test-123"});
    let (status, body) = admin
        .send_json(Method::PUT, &format!("{T}/model-provider"), provider)
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = admin.send(Method::GET, &format!("{T}/model-provider"), None).await;
    assert_eq!((status, body["api_key_set"].clone()), (200, json!(true)), "{body}");
    assert!(!body.to_string().contains("sk-test"), "the key is never shown: {body}");
    for bad in [
        json!({"base_url": "ftp://x", "model": "m"}),
        json!({"base_url": "http://x/v1", "model": ""}),
        json!({"base_url": "http://x/v1", "model": "m", "extra": 1}),
    ] {
        let (status, body) = admin
            .send_json(Method::PUT, &format!("{T}/model-provider"), bad.clone())
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }

    let requirement = "Extract the invoice number from scanned invoices";
    let (status, planned) = plan(&admin, requirement, false, json!({})).await;
    assert_eq!(status, 200, "{planned}");
    assert_eq!(planned["planner"], "model", "{planned}");
    assert_eq!(planned["template"], "ocr-website");
    assert_eq!(planned["parameters"]["site"], "from-model");
    assert_eq!(planned["parameters"]["threshold"], json!(0.5));
    assert_eq!(
        planned["parameters"]["fields"],
        json!(["Invoice number"]),
        "the rules fill what the model left out"
    );

    // An agent asks the tenant's model through the host.
    let definition = json!({"steps": [{"id": "analyse", "component": {"plugin": "ocr-requirements", "input": {"requirement": requirement}}}]});
    let (status, body) = admin
        .send(
            Method::PUT,
            &format!("{T}/workflows/analyse"),
            Some(definition.to_string().into_bytes()),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let run = start_and_finish(&admin, "analyse").await;
    let analysis = &step(&run, "analyse")["output"]["analysis"];
    assert_eq!(
        *analysis,
        json!({"summary": "Read invoice numbers.", "model": "test-model"}),
        "{run}"
    );
    {
        let seen = seen.lock().unwrap();
        assert!(seen.authorizations.iter().all(|a| a == "Bearer sk-test-123"));
        let last = seen.bodies.last().unwrap();
        assert_eq!(last["model"], "test-model");
        assert_eq!(last["response_format"], json!({"type": "json_object"}));
        assert_eq!(last["messages"][1]["content"], requirement);
    }
    let database = std::fs::read(platform.dir.path().join("pa.db")).unwrap();
    let wal = std::fs::read(platform.dir.path().join("pa.db-wal")).unwrap_or_default();
    for bytes in [&database, &wal] {
        assert!(
            !bytes.windows(11).any(|w| w == b"sk-test-123"),
            "the key is stored sealed"
        );
    }

    // Without `api_key` the stored key is kept.
    let same = json!({"base_url": format!("http://127.0.0.1:{port}/v1/"), "model": "test-model"});
    let (status, body) = admin.send_json(Method::PUT, &format!("{T}/model-provider"), same).await;
    assert_eq!((status, body["api_key_set"].clone()), (200, json!(true)), "{body}");
    assert_eq!(body["base_url"], format!("http://127.0.0.1:{port}/v1"));

    // A refused key: the plan falls back to the rules and says why; agents get the error.
    let wrong =
        json!({"base_url": format!("http://127.0.0.1:{port}/v1"), "model": "test-model", "api_key": "sk-wrong"});
    admin
        .send_json(Method::PUT, &format!("{T}/model-provider"), wrong)
        .await;
    let (_, planned) = plan(&admin, requirement, false, json!({})).await;
    assert_eq!(planned["planner"], "rules", "{planned}");
    let reasoning = planned["reasoning"].as_str().unwrap();
    assert!(
        reasoning.contains("401") && reasoning.contains("Incorrect API key provided"),
        "{reasoning}"
    );
    let run = start_and_finish(&admin, "analyse").await;
    assert_eq!(run["state"], "failed");
    let error = step(&run, "analyse")["error"].as_str().unwrap();
    assert!(
        error.contains("Incorrect API key provided") && !error.contains("sk-wrong"),
        "{error}"
    );

    // Without a provider the built-in model answers, the same way every time.
    let (status, _) = admin.send(Method::DELETE, &format!("{T}/model-provider"), None).await;
    assert_eq!(status, 200);
    let (status, body) = admin.send(Method::GET, &format!("{T}/model-provider"), None).await;
    assert_eq!(
        (status, body["configured"].clone(), body["model"].clone()),
        (200, json!(false), json!("builtin"))
    );
    let first = start_and_finish(&admin, "analyse").await;
    let second = start_and_finish(&admin, "analyse").await;
    let analysis = &step(&first, "analyse")["output"]["analysis"];
    assert_eq!(analysis["model"], "builtin");
    assert_eq!(*analysis, step(&second, "analyse")["output"]["analysis"]);
}

async fn start_and_finish(api: &Api, workflow: &str) -> Value {
    let (status, run) = api
        .send_json(
            Method::POST,
            &format!("{T}/workflows/{workflow}/runs"),
            json!({"input": {}}),
        )
        .await;
    assert_eq!(status, 201, "{run}");
    wait_for_run(api, "acme", run["id"].as_str().unwrap(), |r| r["state"] != "running").await
}
