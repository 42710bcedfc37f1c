//! The control-plane API: every endpoint with the access it needs and its
//! audit action, in one table. The router, the permission docs
//! (`docs/permissions.md`) and the permission tests all come from it.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodFilter, MethodRouter, on};

use crate::api;
use crate::auth::{Access, Guard, Permission};
use crate::platform::Platform;
use crate::versioning::{self, Retirement};

/// One endpoint of `/api/v1`.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// HTTP method.
    pub method: Method,
    /// Path pattern.
    pub path: &'static str,
    /// Who may call it, and how the audit log names it.
    pub guard: Guard,
    /// When it was or will be retired, if it is: set on a table entry to
    /// retire it (headers until the sunset, `410 Gone` after, `deprecated`
    /// in the OpenAPI document); routes are retired, never removed.
    pub retired: Option<Retirement>,
}

fn endpoint<H, T>(
    method: Method,
    path: &'static str,
    access: Access,
    action: &'static str,
    handler: H,
) -> (Endpoint, MethodRouter<Platform>)
where
    H: Handler<T, Platform>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a standard method");
    let guard = Guard { access, action };
    let e = Endpoint {
        method,
        path,
        guard,
        retired: None,
    };
    (e, on(filter, handler))
}

/// Every endpoint with its handler.
pub fn endpoints() -> Vec<(Endpoint, MethodRouter<Platform>)> {
    use Access::*;
    use Permission::*;
    vec![
        endpoint(Method::GET, "/api/v1/openapi.json", Public, "api.openapi", openapi_json),
        endpoint(
            Method::POST,
            "/api/v1/auth/login",
            Public,
            "auth.login",
            api::identity::login,
        ),
        endpoint(
            Method::POST,
            "/api/v1/auth/refresh",
            Public,
            "auth.refresh",
            api::identity::refresh,
        ),
        endpoint(
            Method::POST,
            "/api/v1/auth/logout",
            Public,
            "auth.logout",
            api::identity::logout,
        ),
        endpoint(Method::GET, "/api/v1/auth/me", SignedIn, "auth.me", api::identity::me),
        endpoint(
            Method::GET,
            "/api/v1/auth/providers",
            Public,
            "auth.providers",
            api::providers::public_list,
        ),
        endpoint(
            Method::POST,
            "/api/v1/auth/ldap/login",
            Public,
            "auth.ldap",
            api::providers::ldap_login,
        ),
        endpoint(
            Method::GET,
            "/api/v1/auth/oidc/start",
            Public,
            "auth.oidc.start",
            api::providers::oidc_start,
        ),
        endpoint(
            Method::GET,
            "/api/v1/auth/oidc/callback",
            Public,
            "auth.oidc.callback",
            api::providers::oidc_callback,
        ),
        endpoint(
            Method::POST,
            "/api/v1/users",
            PlatformAdmin,
            "user.create",
            api::identity::create_user,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants",
            PlatformAdmin,
            "tenant.list",
            api::list_tenants,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants",
            PlatformAdmin,
            "tenant.create",
            api::create_tenant,
        ),
        endpoint(
            Method::GET,
            "/api/v1/plans",
            SignedIn,
            "plan.list",
            api::billing::list_plans,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/plans/{plan}",
            PlatformAdmin,
            "plan.put",
            api::billing::put_plan,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/plan",
            PlatformAdmin,
            "tenant.plan",
            api::billing::set_tenant_plan,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/plugins",
            Tenant(PluginRead),
            "plugin.list",
            api::list_plugins,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/plugins/{name}/versions/{version}",
            Tenant(PluginUpload),
            "plugin.upload",
            api::upload,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/plugins/{name}/versions/{version}",
            Tenant(PluginRead),
            "plugin.version",
            api::get_version,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/plugins/{name}/logs",
            Tenant(PluginRead),
            "plugin.logs",
            api::monitoring::logs,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/monitoring",
            Tenant(PluginRead),
            "monitoring.read",
            api::monitoring::monitoring,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/plugins/{name}/enable",
            Tenant(PluginEnable),
            "plugin.enable",
            api::enable,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/plugins/{name}/disable",
            Tenant(PluginEnable),
            "plugin.disable",
            api::disable,
        ),
        endpoint(
            Method::GET,
            "/api/v1/first-party",
            SignedIn,
            "first_party.list",
            api::first_party::list,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/first-party/{name}/enable",
            Tenant(PluginEnable),
            "first_party.enable",
            api::first_party::enable,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/api-keys",
            Tenant(KeyManage),
            "key.list",
            api::keys::list,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/api-keys",
            Tenant(KeyManage),
            "key.create",
            api::keys::create,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/api-keys/{id}",
            Tenant(KeyManage),
            "key.revoke",
            api::keys::revoke,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/members",
            Tenant(UserRead),
            "member.list",
            api::identity::members,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/members/{username}",
            Tenant(UserManage),
            "member.set",
            api::identity::set_member,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/members/{username}",
            Tenant(UserManage),
            "member.remove",
            api::identity::remove_member,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/roles",
            Tenant(UserRead),
            "role.list",
            api::identity::roles,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/roles/{role}",
            Tenant(UserManage),
            "role.put",
            api::identity::put_role,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/roles/{role}",
            Tenant(UserManage),
            "role.delete",
            api::identity::delete_role,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/teams",
            Tenant(UserRead),
            "team.list",
            api::teams::list,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/teams/{team}",
            Tenant(UserManage),
            "team.put",
            api::teams::put,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/teams/{team}",
            Tenant(UserManage),
            "team.delete",
            api::teams::delete,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/teams/{team}/members/{username}",
            Tenant(UserManage),
            "team.member.add",
            api::teams::add_member,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/teams/{team}/members/{username}",
            Tenant(UserManage),
            "team.member.remove",
            api::teams::remove_member,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/identity-providers",
            Tenant(UserRead),
            "idp.list",
            api::providers::list,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/identity-providers/{provider}",
            Tenant(UserManage),
            "idp.put",
            api::providers::put,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/identity-providers/{provider}",
            Tenant(UserManage),
            "idp.delete",
            api::providers::delete,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/workflows",
            Tenant(WorkflowRead),
            "workflow.list",
            api::workflows::list,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/workflows/{workflow}",
            Tenant(WorkflowWrite),
            "workflow.put",
            api::workflows::put,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/workflows/{workflow}",
            Tenant(WorkflowRead),
            "workflow.get",
            api::workflows::get,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/workflows/{workflow}/runs",
            Tenant(WorkflowRun),
            "run.start",
            api::workflows::start,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/runs",
            Tenant(WorkflowRead),
            "run.list",
            api::workflows::runs,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/runs/{run}",
            Tenant(WorkflowRead),
            "run.get",
            api::workflows::run,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/runs/{run}/events",
            Tenant(WorkflowRead),
            "run.events",
            api::workflows::events,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/runs/{run}/cancel",
            Tenant(WorkflowRun),
            "run.cancel",
            api::workflows::cancel,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/runs/{run}/retry",
            Tenant(WorkflowRun),
            "run.retry",
            api::workflows::retry,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/runs/{run}/steps/{step}/approve",
            Tenant(WorkflowApprove),
            "run.approve",
            api::workflows::approve,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/runs/{run}/steps/{step}/reject",
            Tenant(WorkflowApprove),
            "run.reject",
            api::workflows::reject,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/orchestrator/plan",
            Tenant(WorkflowRun),
            "orchestrator.plan",
            api::orchestrator::plan,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/model-provider",
            Tenant(TenantRead),
            "model.get",
            api::capabilities::get_model_provider,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/model-provider",
            Tenant(TenantManage),
            "model.put",
            api::capabilities::put_model_provider,
        ),
        endpoint(
            Method::DELETE,
            "/api/v1/tenants/{tenant}/model-provider",
            Tenant(TenantManage),
            "model.delete",
            api::capabilities::delete_model_provider,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/sites",
            Tenant(TenantRead),
            "site.list",
            api::capabilities::sites,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/sites/{site}",
            Tenant(TenantRead),
            "site.get",
            api::capabilities::site,
        ),
        endpoint(
            Method::POST,
            "/api/v1/tenants/{tenant}/sites/{site}/rollback",
            Tenant(PluginEnable),
            "site.rollback",
            api::capabilities::rollback,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/audit",
            Tenant(AuditRead),
            "audit.read",
            api::audit::list,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/usage",
            Tenant(BillingRead),
            "usage.read",
            api::billing::usage,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/invoices/{period}",
            Tenant(BillingRead),
            "invoice.read",
            api::billing::invoice,
        ),
        endpoint(
            Method::GET,
            "/api/v1/tenants/{tenant}/mcp",
            Tenant(TenantRead),
            "mcp.settings",
            api::get_mcp_settings,
        ),
        endpoint(
            Method::PUT,
            "/api/v1/tenants/{tenant}/mcp",
            Tenant(TenantManage),
            "mcp.configure",
            api::set_mcp_settings,
        ),
    ]
}

async fn openapi_json() -> axum::Json<&'static utoipa::openapi::OpenApi> {
    axum::Json(crate::openapi::document())
}

/// The `/api/v1` router: each endpoint behind [`crate::auth::authorize`] with its guard.
pub fn router(platform: &Platform) -> Router<Platform> {
    endpoints().into_iter().fold(Router::new(), |router, (e, handler)| {
        let guarded = handler.route_layer(from_fn_with_state((platform.clone(), e.guard), crate::auth::authorize));
        router.route(e.path, versioning::apply(guarded, e.retired))
    })
}

/// The permission table of `docs/permissions.md`.
#[cfg(test)]
fn permission_table() -> String {
    let mut table = String::from("| Method | Path | Access | Audit action |\n|---|---|---|---|\n");
    for (e, _) in endpoints() {
        let retired = e
            .retired
            .map(|r| format!(" **Retired:** {}", r.describe()))
            .unwrap_or_default();
        table.push_str(&format!(
            "| {} | `{}` | {}{retired} | `{}` |\n",
            e.method,
            e.path,
            e.guard.access.describe(),
            e.guard.action
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_docs_list_every_endpoint_with_its_permission() {
        let docs = include_str!("../../../docs/permissions.md");
        let table = permission_table();
        assert!(
            docs.contains(&table),
            "docs/permissions.md is out of date; its endpoint table should be:\n{table}"
        );
    }

    #[test]
    fn the_docs_role_table_matches_the_built_in_roles() {
        use crate::auth::{BUILT_IN_ROLES, built_in_role};
        let docs = include_str!("../../../docs/permissions.md");
        for permission in Permission::ALL {
            let row = docs
                .lines()
                .find(|l| l.starts_with(&format!("| `{permission}` ")))
                .unwrap_or_else(|| panic!("docs/permissions.md has no row for {permission}"));
            let marks: Vec<bool> = row.split('|').skip(2).take(4).map(|c| c.trim() == "✓").collect();
            let held: Vec<bool> = BUILT_IN_ROLES
                .iter()
                .map(|r| built_in_role(r).unwrap().contains(&permission))
                .collect();
            assert_eq!(marks, held, "row of {permission} in docs/permissions.md");
        }
    }

    #[test]
    fn every_tenant_endpoint_has_a_tenant_parameter() {
        for (e, _) in endpoints() {
            let names_tenant = e.path.contains("{tenant}");
            match e.guard.access {
                Access::Tenant(_) => assert!(names_tenant, "{}", e.path),
                // A platform admin may act on a tenant (e.g. set its plan); no one else without its permission.
                Access::PlatformAdmin => {}
                _ => assert!(
                    !names_tenant,
                    "{} names a tenant but checks no permission in it",
                    e.path
                ),
            }
        }
    }
}
