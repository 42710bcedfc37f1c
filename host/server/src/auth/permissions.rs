//! Permissions, and the built-in roles made of them.

use std::fmt;

/// Something a caller may be allowed to do inside a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Permission {
    /// See the tenant's settings (e.g. its MCP endpoint).
    TenantRead,
    /// Change the tenant's settings.
    TenantManage,
    /// List plugins and their versions and status.
    PluginRead,
    /// Upload plugin versions.
    PluginUpload,
    /// Enable, disable and roll back plugins.
    PluginEnable,
    /// Call the tenant's HTTP functions that need a key.
    FunctionInvoke,
    /// Use the tenant's MCP endpoint.
    McpCall,
    /// Create, list and revoke API keys.
    KeyManage,
    /// List members and roles.
    UserRead,
    /// Add and remove members, define custom roles.
    UserManage,
    /// Read and export the audit log.
    AuditRead,
    /// Read usage, quotas and invoices.
    BillingRead,
    /// See workflows and their runs.
    WorkflowRead,
    /// Save workflow definitions.
    WorkflowWrite,
    /// Start and cancel runs.
    WorkflowRun,
    /// Approve or reject a run's approval steps.
    WorkflowApprove,
}

impl Permission {
    /// Every permission, in the order of the docs.
    pub const ALL: [Permission; 16] = [
        Permission::TenantRead,
        Permission::TenantManage,
        Permission::PluginRead,
        Permission::PluginUpload,
        Permission::PluginEnable,
        Permission::FunctionInvoke,
        Permission::McpCall,
        Permission::KeyManage,
        Permission::UserRead,
        Permission::UserManage,
        Permission::AuditRead,
        Permission::BillingRead,
        Permission::WorkflowRead,
        Permission::WorkflowWrite,
        Permission::WorkflowRun,
        Permission::WorkflowApprove,
    ];

    /// The name used in roles, docs and audit entries.
    pub fn name(self) -> &'static str {
        match self {
            Permission::TenantRead => "tenant.read",
            Permission::TenantManage => "tenant.manage",
            Permission::PluginRead => "plugin.read",
            Permission::PluginUpload => "plugin.upload",
            Permission::PluginEnable => "plugin.enable",
            Permission::FunctionInvoke => "function.invoke",
            Permission::McpCall => "mcp.call",
            Permission::KeyManage => "key.manage",
            Permission::UserRead => "user.read",
            Permission::UserManage => "user.manage",
            Permission::AuditRead => "audit.read",
            Permission::BillingRead => "billing.read",
            Permission::WorkflowRead => "workflow.read",
            Permission::WorkflowWrite => "workflow.write",
            Permission::WorkflowRun => "workflow.run",
            Permission::WorkflowApprove => "workflow.approve",
        }
    }

    /// The permission called `name`.
    pub fn parse(name: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The built-in roles, from most to least powerful.
pub const BUILT_IN_ROLES: [&str; 4] = ["admin", "developer", "operator", "viewer"];

/// The permissions of a built-in role; `None` for any other name.
pub fn built_in_role(role: &str) -> Option<Vec<Permission>> {
    use Permission::*;
    let permissions = match role {
        "admin" => Permission::ALL.to_vec(),
        "developer" => vec![
            TenantRead,
            PluginRead,
            PluginUpload,
            PluginEnable,
            FunctionInvoke,
            McpCall,
            UserRead,
            WorkflowRead,
            WorkflowWrite,
            WorkflowRun,
        ],
        "operator" => vec![
            TenantRead,
            PluginRead,
            PluginEnable,
            FunctionInvoke,
            McpCall,
            UserRead,
            AuditRead,
            BillingRead,
            WorkflowRead,
            WorkflowRun,
            WorkflowApprove,
        ],
        "viewer" => vec![TenantRead, PluginRead, WorkflowRead],
        _ => return None,
    };
    Some(permissions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.name()), Some(p));
        }
        let mut names: Vec<_> = Permission::ALL.iter().map(|p| p.name()).collect();
        names.dedup();
        assert_eq!(names.len(), Permission::ALL.len());
        assert_eq!(Permission::parse("plugin.delete"), None);
    }

    #[test]
    fn each_role_is_within_the_one_above() {
        let roles: Vec<_> = BUILT_IN_ROLES.iter().map(|r| built_in_role(r).unwrap()).collect();
        assert!(roles[1].iter().all(|p| roles[0].contains(p)));
        assert!(roles[3].iter().all(|p| roles[2].contains(p) && roles[1].contains(p)));
        assert!(!roles[3].contains(&Permission::PluginUpload));
        assert!(!roles[3].contains(&Permission::PluginEnable));
        assert!(!roles[3].contains(&Permission::WorkflowApprove));
    }
}
