// Every page of a tenant, the permission it needs to be shown, and its component.

import type { ComponentType } from 'react';
import type { Permission } from '../api/types';
import { ApiKeysPage } from './ApiKeysPage';
import { AuditPage } from './AuditPage';
import { BillingPage } from './BillingPage';
import { FunctionsPage } from './FunctionsPage';
import { McpPage } from './McpPage';
import { MembersPage } from './MembersPage';
import { ModelPage } from './ModelPage';
import { MonitoringPage } from './MonitoringPage';
import { PluginsPage } from './plugins/PluginsPage';
import { RolesPage } from './RolesPage';
import { SitesPage } from './SitesPage';
import { TeamsPage } from './TeamsPage';
import { WorkflowsPage } from './workflows/WorkflowsPage';

export interface PageEntry {
  id: string;
  title: string;
  needs: Permission;
  component: ComponentType;
}

export const PAGES: PageEntry[] = [
  { id: 'plugins', title: 'Plugins', needs: 'plugin.read', component: PluginsPage },
  { id: 'functions', title: 'Functions', needs: 'plugin.read', component: FunctionsPage },
  { id: 'mcp', title: 'MCP', needs: 'tenant.read', component: McpPage },
  { id: 'workflows', title: 'Workflows', needs: 'workflow.read', component: WorkflowsPage },
  { id: 'sites', title: 'Sites', needs: 'tenant.read', component: SitesPage },
  { id: 'model', title: 'Model', needs: 'tenant.read', component: ModelPage },
  { id: 'monitoring', title: 'Monitoring', needs: 'plugin.read', component: MonitoringPage },
  { id: 'members', title: 'Members', needs: 'user.read', component: MembersPage },
  { id: 'teams', title: 'Teams', needs: 'user.read', component: TeamsPage },
  { id: 'roles', title: 'Roles', needs: 'user.read', component: RolesPage },
  { id: 'api-keys', title: 'API keys', needs: 'key.manage', component: ApiKeysPage },
  { id: 'audit', title: 'Audit log', needs: 'audit.read', component: AuditPage },
  { id: 'billing', title: 'Usage and invoices', needs: 'billing.read', component: BillingPage },
];
