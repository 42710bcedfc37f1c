//! The OpenAPI 3.1 document of `/api/v1`, built from the route table
//! ([`crate::routes::endpoints`]): paths, parameters with the patterns the
//! server enforces, request bodies from the request types, security, and the
//! error answers every endpoint can give.

use std::sync::LazyLock;

use utoipa::PartialSchema;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, Deprecated, HttpMethod, InfoBuilder, OpenApi, OpenApiBuilder, Paths,
    PathsBuilder, Ref, RefOr, Required, ResponseBuilder, Schema,
};

use crate::api;
use crate::auth::{Access, Permission};
use crate::routes::{Endpoint, endpoints};

/// Lowercase names: tenants, plugins, roles.
const NAME_PATTERN: &str = "^[a-z][a-z0-9-]{0,62}$";
/// Months.
const PERIOD_PATTERN: &str = "^[0-9]{4}-(0[1-9]|1[0-2])$";
/// Run ids (UUIDs).
const RUN_PATTERN: &str = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";
/// Workflow step ids.
const STEP_PATTERN: &str = "^[a-z][a-z0-9_-]{0,62}$";
/// Usernames.
const USERNAME_PATTERN: &str = "^[a-z0-9._@-]{1,64}$";
/// Semantic versions.
const VERSION_PATTERN: &str = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$";

fn string(pattern: Option<&str>) -> RefOr<Schema> {
    let mut s = ObjectBuilder::new().schema_type(Type::String);
    if let Some(p) = pattern {
        s = s.pattern(Some(p));
    }
    s.into()
}

fn integer(min: i64, max: i64) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(min as f64))
        .maximum(Some(max as f64))
        .into()
}

fn path_parameter(name: &str) -> utoipa::openapi::path::Parameter {
    let pattern = match name {
        "tenant" | "name" | "role" | "team" | "plan" | "provider" | "workflow" | "site" => Some(NAME_PATTERN),
        "run" => Some(RUN_PATTERN),
        "step" => Some(STEP_PATTERN),
        "period" => Some(PERIOD_PATTERN),
        "username" => Some(USERNAME_PATTERN),
        "version" => Some(VERSION_PATTERN),
        _ => None,
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(string(pattern)))
        .build()
}

fn query_parameter(name: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .schema(Some(schema))
        .build()
}

fn required_query(name: &str, schema: RefOr<Schema>) -> utoipa::openapi::path::Parameter {
    let mut parameter = query_parameter(name, schema);
    parameter.required = Required::True;
    parameter
}

/// The JSON body an endpoint takes, by its audit action.
fn json_body(action: &str) -> Option<RefOr<Schema>> {
    Some(match action {
        "auth.login" => api::identity::Login::schema(),
        "auth.refresh" | "auth.logout" => api::identity::RefreshRequest::schema(),
        "user.create" => api::identity::NewUser::schema(),
        "tenant.create" => api::NewTenant::schema(),
        "plugin.enable" => crate::deploy::EnableRequest::schema(),
        "first_party.enable" => api::first_party::FirstPartyEnable::schema(),
        "key.create" => api::keys::NewKeyRequest::schema(),
        "member.set" => api::identity::MemberRequest::schema(),
        "role.put" => role_body(),
        "team.put" => api::teams::TeamRequest::schema(),
        "mcp.configure" => api::McpSettings::schema(),
        "plan.put" => api::billing::PlanRequest::schema(),
        "auth.ldap" => api::providers::LdapLogin::schema(),
        "idp.put" => provider_body(),
        "tenant.plan" => api::billing::TenantPlanRequest::schema(),
        "run.start" => api::workflows::StartRequest::schema(),
        "run.approve" | "run.reject" => api::workflows::DecisionRequest::schema(),
        "orchestrator.plan" => api::orchestrator::PlanRequest::schema(),
        "model.put" => api::capabilities::ModelProviderRequest::schema(),
        "site.rollback" => api::capabilities::RollbackRequest::schema(),
        _ => return None,
    })
}

fn query_parameters(action: &str) -> Vec<utoipa::openapi::path::Parameter> {
    match action {
        "audit.read" => {
            let mut params: Vec<_> = ["action", "actor", "outcome", "since", "until"]
                .into_iter()
                .map(|name| query_parameter(name, string(Some(r"^[^\x00]*$"))))
                .collect();
            params.push(query_parameter("after", integer(0, i64::MAX)));
            params.push(query_parameter("limit", integer(1, 10_000)));
            let format: RefOr<Schema> = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["json", "jsonl", "csv"]))
                .into();
            params.push(query_parameter("format", format));
            params
        }
        "usage.read" => vec![query_parameter("period", string(Some(PERIOD_PATTERN)))],
        "plugin.logs" => {
            let since: RefOr<Schema> = ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .into();
            let stream: RefOr<Schema> = ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["stdout", "stderr", "host"]))
                .into();
            vec![
                query_parameter("limit", integer(1, pa_runtime::BUFFER_LINES as i64)),
                query_parameter("since", since),
                query_parameter("stream", stream),
            ]
        }
        "run.list" => vec![
            query_parameter("workflow", string(Some(NAME_PATTERN))),
            query_parameter("limit", integer(1, 1000)),
        ],
        "auth.providers" => vec![required_query("tenant", string(Some(NAME_PATTERN)))],
        "auth.oidc.start" => vec![
            required_query("tenant", string(Some(NAME_PATTERN))),
            required_query("provider", string(Some(NAME_PATTERN))),
            query_parameter(
                "return_to",
                string(Some(r"^/([^/\\#\x00-\x1f\x7f-\x9f][^\\#\x00-\x1f\x7f-\x9f]*)?$")),
            ),
        ],
        "auth.oidc.callback" => {
            let text = || string(Some(r"^[^\x00]*$"));
            let mut params = vec![required_query("state", text())];
            params.extend(["code", "error", "error_description"].map(|name| query_parameter(name, text())));
            params
        }
        _ => Vec::new(),
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

fn success_statuses(e: &Endpoint) -> &'static [&'static str] {
    match e.guard.action {
        "user.create" | "key.create" | "workflow.put" | "run.start" | "run.retry" => &["201"],
        "tenant.create" | "member.set" | "plugin.upload" | "orchestrator.plan" => &["200", "201"],
        "auth.oidc.start" => &["303"],
        "auth.oidc.callback" => &["200", "303"],
        _ => &["200"],
    }
}

/// The media types of an endpoint's success answer.
fn success_media(e: &Endpoint) -> &'static [&'static str] {
    match e.guard.action {
        "audit.read" => &["application/json", "application/jsonl", "text/csv"],
        "run.events" => &["text/event-stream"],
        _ => &["application/json"],
    }
}

/// What an endpoint's summary does not say.
fn description(action: &str) -> Option<&'static str> {
    Some(match action {
        "monitoring.read" => {
            "Per plugin: requests by status class, errors by code, limit hits, latency \
             (percentiles and cumulative buckets), in-flight requests and the concurrency limit, \
             fuel, peak memory and workflow step attempts: this tenant's series of the \
             platform's metrics on the node that answers (each node of a cluster counts its own)."
        }
        "plugin.logs" => {
            "The plugin's newest log lines, oldest first: what its instances printed to stdout \
             and stderr (at most 2048 bytes a line, 200 lines a call) and its calls that failed \
             on the host side (`stream` = `host`, `level` = `error`). Kept in memory by the node \
             that answers (the last 1000 lines, each node its own); every node also emits them \
             as `pa::guest` log events for log shipping."
        }
        _ => return None,
    })
}

/// The schema of an endpoint's JSON answer, where the document says more
/// than "an object".
fn success_schema(action: &str) -> Option<RefOr<Schema>> {
    Some(match action {
        "monitoring.read" => api::monitoring::MonitoringReport::schema(),
        "plugin.logs" => api::monitoring::LogPage::schema(),
        _ => return None,
    })
}

/// The outline of a workflow definition; the server checks the rest and
/// names what is wrong.
fn definition_body() -> RefOr<Schema> {
    let step = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property("id", string(Some(STEP_PATTERN)))
        .required("id");
    ObjectBuilder::new()
        .property("description", string(Some(r"^[^\x00]*$")))
        .property("steps", ArrayBuilder::new().items(step).min_items(Some(1)))
        .required("steps")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

/// A provider's settings: one closed object per kind, its fields and its
/// `kind` tag together (utoipa's derived `allOf` of a closed object and the
/// tag admits no value at all).
fn provider_body() -> RefOr<Schema> {
    let branch = |kind: &str, fields: RefOr<Schema>| -> Schema {
        let mut value = serde_json::to_value(fields).expect("a schema serializes");
        value["properties"]["kind"] = serde_json::json!({ "type": "string", "enum": [kind] });
        value["required"]
            .as_array_mut()
            .expect("a closed object has required fields")
            .push("kind".into());
        serde_json::from_value(value).expect("a schema with one more property deserializes")
    };
    OneOfBuilder::new()
        .item(branch("ldap", crate::idp::ldap::LdapConfig::schema()))
        .item(branch("oidc", crate::idp::oidc::OidcConfig::schema()))
        .into()
}

/// `{"permissions": [...]}` with the permission names the server knows.
fn role_body() -> RefOr<Schema> {
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.name()).collect();
    let items = ObjectBuilder::new().schema_type(Type::String).enum_values(Some(names));
    ObjectBuilder::new()
        .property("permissions", ArrayBuilder::new().items(items))
        .required("permissions")
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

fn operation(e: &Endpoint) -> utoipa::openapi::path::Operation {
    let mut op = OperationBuilder::new()
        .operation_id(Some(e.guard.action.replace('.', "_")))
        .summary(Some(format!(
            "{} (access: {})",
            e.guard.action,
            e.guard.access.describe()
        )));
    for name in e.path.split('{').skip(1).filter_map(|rest| rest.split('}').next()) {
        op = op.parameter(path_parameter(name));
    }
    for p in query_parameters(e.guard.action) {
        op = op.parameter(p);
    }
    if let Some(text) = description(e.guard.action) {
        op = op.description(Some(text));
    }
    if let Some(retirement) = e.retired {
        op = op
            .deprecated(Some(Deprecated::True))
            .description(Some(retirement.describe()))
            .response(
                "410",
                error_response("the route is past its sunset; `Link` names its successor"),
            );
    }
    if let Some(schema) = json_body(e.guard.action) {
        // A key may be created with no body at all (an admin key that never
        // expires), a run started without input, a step approved without comment.
        let optional = [
            "key.create",
            "run.start",
            "run.approve",
            "run.reject",
            "first_party.enable",
        ];
        let required = if optional.contains(&e.guard.action) {
            Required::False
        } else {
            Required::True
        };
        let body = RequestBodyBuilder::new()
            .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
            .required(Some(required))
            .build();
        op = op.request_body(Some(body));
    } else if e.guard.action == "workflow.put" {
        let yaml: RefOr<Schema> = ObjectBuilder::new().schema_type(Type::String).into();
        let body = RequestBodyBuilder::new()
            .description(Some("The definition (docs/workflows.md), as JSON or YAML."))
            .content(
                "application/json",
                ContentBuilder::new().schema(Some(definition_body())).build(),
            )
            .content("application/yaml", ContentBuilder::new().schema(Some(yaml)).build())
            .required(Some(Required::True))
            .build();
        op = op.request_body(Some(body));
    } else if e.guard.action == "plugin.upload" {
        let binary: RefOr<Schema> = ObjectBuilder::new()
            .schema_type(Type::String)
            .content_media_type("application/wasm")
            .into();
        let body = RequestBodyBuilder::new()
            .content(
                "application/wasm",
                ContentBuilder::new().schema(Some(binary.clone())).build(),
            )
            .content(
                "application/octet-stream",
                ContentBuilder::new().schema(Some(binary)).build(),
            )
            .required(Some(Required::True))
            .build();
        op = op.request_body(Some(body));
    }
    for status in success_statuses(e) {
        if *status == "303" {
            let redirect = ResponseBuilder::new().description("see the `Location` header");
            op = op.response(*status, redirect.build());
            continue;
        }
        let mut ok = ResponseBuilder::new().description("done");
        for media in success_media(e) {
            let schema: RefOr<Schema> = if *media == "application/json" {
                success_schema(e.guard.action).unwrap_or_else(|| ObjectBuilder::new().schema_type(Type::Object).into())
            } else {
                ObjectBuilder::new().schema_type(Type::String).into()
            };
            ok = ok.content(*media, ContentBuilder::new().schema(Some(schema)).build());
        }
        op = op.response(*status, ok.build());
    }
    if e.guard.action == "plugin.upload" {
        op = op
            .response(
                "413",
                error_response("the component is larger than the upload limit or the storage quota"),
            )
            .response(
                "422",
                error_response("the component's world or imports are not supported"),
            );
    }
    if e.guard.action == "orchestrator.plan" {
        op = op.response(
            "422",
            error_response("the requirement names nothing the templates can build"),
        );
    }
    op = op
        .response("400", error_response("the request names something invalid"))
        .response("404", error_response("what it names does not exist"))
        .response("409", error_response("it conflicts with what exists"))
        .response("429", error_response("a rate limit is used up"));
    if e.guard.access != Access::Public {
        op = op
            .response(
                "401",
                error_response("missing, unknown, revoked or expired credentials"),
            )
            .response("403", error_response("the caller lacks the permission"))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    } else {
        op = op.response("401", error_response("wrong credentials"));
    }
    op.build()
}

fn method(m: &axum::http::Method) -> HttpMethod {
    match *m {
        axum::http::Method::GET => HttpMethod::Get,
        axum::http::Method::POST => HttpMethod::Post,
        axum::http::Method::PUT => HttpMethod::Put,
        axum::http::Method::DELETE => HttpMethod::Delete,
        _ => unreachable!("the route table uses GET, POST, PUT and DELETE"),
    }
}

fn error_schema() -> RefOr<Schema> {
    let detail = ObjectBuilder::new()
        .property("code", string(None))
        .required("code")
        .property("message", string(None))
        .required("message");
    ObjectBuilder::new().property("error", detail).required("error").into()
}

/// The document served at `/api/v1/openapi.json`, built once.
pub fn document() -> &'static OpenApi {
    static DOCUMENT: LazyLock<OpenApi> = LazyLock::new(build);
    &DOCUMENT
}

fn build() -> OpenApi {
    let mut paths: Paths = PathsBuilder::new().build();
    for (e, _) in endpoints() {
        paths.add_path_operation(e.path, vec![method(&e.method)], operation(&e));
    }
    let components = ComponentsBuilder::new()
        .schema("Error", error_schema())
        .schema_from::<crate::deploy::Access>()
        .schema_from::<crate::deploy::Grants>()
        .schema_from::<pa_runtime::Limits>()
        .schema_from::<crate::health::CircuitPolicy>()
        .schema_from::<crate::health::CanaryPolicy>()
        .schema_from::<crate::idp::RoleRule>()
        .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("PowerAutomation control plane")
                .version(env!("CARGO_PKG_VERSION"))
                .build(),
        )
        .paths(paths)
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every `$ref` target of `value`.
    fn refs(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(fields) => {
                if let Some(Value::String(target)) = fields.get("$ref") {
                    found.push(target.clone());
                }
                fields.values().for_each(|v| refs(v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }

    /// Whether `value` has an `allOf` with a closed object among its parts
    /// (which no value with the other parts' fields can satisfy); references
    /// are looked up in `document`'s components.
    fn closed_object_in_all_of(document: &Value, value: &Value) -> bool {
        let closed = |part: &Value| {
            let part = match part.get("$ref").and_then(Value::as_str) {
                Some(target) => &document["components"]["schemas"][target.trim_start_matches("#/components/schemas/")],
                None => part,
            };
            part.get("additionalProperties") == Some(&Value::Bool(false))
        };
        match value {
            Value::Object(fields) => {
                let all_of = fields.get("allOf").and_then(Value::as_array);
                all_of.is_some_and(|parts| parts.iter().any(closed))
                    || fields.values().any(|v| closed_object_in_all_of(document, v))
            }
            Value::Array(items) => items.iter().any(|v| closed_object_in_all_of(document, v)),
            _ => false,
        }
    }

    #[test]
    fn no_body_combines_a_closed_object_with_more_fields() {
        let document = serde_json::to_value(super::document()).unwrap();
        assert!(!closed_object_in_all_of(&document, &document));
        let provider = &document["paths"]["/api/v1/tenants/{tenant}/identity-providers/{provider}"]["put"];
        let branches = provider["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
            .as_array()
            .unwrap();
        for (branch, kind) in branches.iter().zip(["ldap", "oidc"]) {
            assert_eq!(branch["properties"]["kind"]["enum"][0], kind);
            assert_eq!(branch["additionalProperties"], false);
            assert!(branch["required"].as_array().unwrap().contains(&Value::from("kind")));
        }
    }

    #[test]
    fn a_retired_route_is_deprecated_and_says_what_replaces_it() {
        let (mut endpoint, _) = crate::routes::endpoints().swap_remove(0);
        endpoint.retired = Some(crate::versioning::Retirement {
            deprecated_at: 1_782_864_000,
            sunset_at: 1_798_761_600,
            successor: "/api/v2/openapi.json",
        });
        let operation = serde_json::to_value(super::operation(&endpoint)).unwrap();
        assert_eq!(operation["deprecated"], true);
        let description = operation["description"].as_str().unwrap();
        assert!(description.contains("/api/v2/openapi.json"), "{description}");
        assert!(operation["responses"].get("410").is_some());
        let live = serde_json::to_value(super::document()).unwrap();
        assert!(live["paths"]["/api/v1/openapi.json"]["get"].get("deprecated").is_none());
    }

    #[test]
    fn every_reference_resolves() {
        let document = serde_json::to_value(super::document()).unwrap();
        let mut found = Vec::new();
        refs(&document, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("unexpected reference {target}"));
            assert!(
                document["components"]["schemas"].get(name).is_some(),
                "{target} is not in the document's components"
            );
        }
    }
}
