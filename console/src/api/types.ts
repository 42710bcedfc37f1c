// Shapes of the `/api/v1` answers the console reads (see host/server/src/api).

export type Permission =
  | 'tenant.read'
  | 'tenant.manage'
  | 'plugin.read'
  | 'plugin.upload'
  | 'plugin.enable'
  | 'function.invoke'
  | 'mcp.call'
  | 'key.manage'
  | 'user.read'
  | 'user.manage'
  | 'audit.read'
  | 'billing.read'
  | 'workflow.read'
  | 'workflow.write'
  | 'workflow.run'
  | 'workflow.approve';

export interface TenantAccess {
  tenant: string;
  role: string;
  permissions: Permission[];
}

export interface User {
  id: string;
  username: string;
  provider: string;
  platform_admin: boolean;
  created_at: string;
}

export interface KeyInfo {
  id: string;
  tenant: string | null;
  role: string;
  name: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface Me {
  user?: User;
  key?: KeyInfo;
  platform_admin: boolean;
  tenants: TenantAccess[];
}

export interface Provider {
  name: string;
  kind: 'ldap' | 'oidc' | string;
}

export interface PluginVersion {
  name: string;
  version: string;
  sha256: string;
  world: string;
  size: number;
  created_at: string;
}

export interface Health {
  state: 'closed' | 'open' | 'half-open';
  consecutive_failures?: number;
  retry_in_ms?: number;
}

export interface PluginStatus {
  health: Health;
  canary: { version: string; weight: number; stats: { calls: number; errors: number } } | null;
  last_rollback: { version: string; reason: string; at: number } | null;
}

export interface Plugin {
  name: string;
  versions: PluginVersion[];
  enabled_version: string | null;
  /** What the plugin is enabled with; null when it is not enabled. */
  enabled: EnabledConfig | null;
  fuel_consumed: number | null;
  status?: PluginStatus;
}

export interface Grants {
  allowed_outbound_hosts: string[];
  key_value_stores: string[];
  variables: Record<string, string>;
  /** Chat-model inference with the tenant's model. */
  model: boolean;
  /** Text recognition in images. */
  ocr: boolean;
  /** Sites the plugin may publish. */
  sites: string[];
}

export interface Limits {
  memory_mib: number;
  timeout_ms: number;
  max_concurrency: number;
}

export interface CircuitPolicy {
  failures: number;
  open_ms: number;
}

export interface CanaryPolicy {
  version: string;
  weight: number;
  max_error_rate: number;
  min_calls: number;
  /** Its own grants; the stable version's when absent. */
  grants?: Grants;
}

export interface EnableRequest {
  version: string;
  access: 'public' | 'api-key';
  grants: Grants;
  limits: Limits;
  tool_prefix?: string;
  circuit: CircuitPolicy;
  canary?: CanaryPolicy;
}

/** Grants as `GET …/plugins` shows them: variable values are null for callers who may not enable plugins. */
export interface ShownGrants extends Omit<Grants, 'variables'> {
  variables: Record<string, string | null>;
}

/** The stored `EnableRequest` of an enabled plugin, as `GET …/plugins` shows it. */
export interface EnabledConfig extends Omit<EnableRequest, 'grants' | 'canary'> {
  grants: ShownGrants;
  canary?: Omit<CanaryPolicy, 'grants'> & { grants?: ShownGrants };
}

export interface WorkflowSummary {
  name: string;
  version: number;
  description: string | null;
  steps: number;
  created_by: string;
  created_at: string;
}

export interface StepDefinition {
  id: string;
  needs?: string[];
  component?: { plugin: string; input?: unknown };
  tool?: { plugin: string; name: string; arguments?: unknown };
  workflow?: { name: string; input?: unknown };
  wait?: { seconds: number };
  approval?: { message: string };
  [key: string]: unknown;
}

export interface Workflow {
  name: string;
  version: number;
  definition: { description?: string; steps: StepDefinition[] };
  created_by: string;
  created_at: string;
}

export interface StepLog {
  attempt: number;
  level: string;
  message: string;
  at: string;
}

export interface StepRun {
  id: string;
  state: string;
  attempt: number;
  /** The resolved input it was given (a loop's: the list of its items' inputs). */
  input: unknown;
  logs?: StepLog[];
  output: unknown;
  error: string | null;
  decided_by: string | null;
  ready_at: string | null;
  started_at: string | null;
  finished_at: string | null;
}

export interface Run {
  id: string;
  workflow: string;
  version: number;
  state: string;
  input: unknown;
  output: unknown;
  error: string | null;
  started_by: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  steps?: StepRun[];
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  source_ip: string;
  request_id: string;
  detail: string;
}

export interface Member {
  tenant: string;
  user_id: string;
  username: string;
  role: string;
}

export interface Role {
  name: string;
  built_in: boolean;
  permissions: Permission[];
}

export interface Team {
  id: string;
  name: string;
  parent: string | null;
  role: string | null;
  members: string[];
}

export interface NewKey {
  key: string;
  id: string;
  role: string;
  name: string;
  expires_at: string | null;
}

export interface PluginUsage {
  plugin: string;
  invocations: number;
  wall_micros: number;
  fuel: number;
  peak_memory_bytes: number;
  egress_bytes: number;
  storage_bytes: number;
}

export interface Usage {
  tenant: string;
  period: string;
  plan: string;
  totals: Omit<PluginUsage, 'plugin'>;
  quotas: {
    invocations: { limit: number | null; used: number };
    storage_bytes: { limit: number | null; used: number };
  };
  plugins: PluginUsage[];
}

export interface InvoiceLine {
  item: string;
  description: string;
  quantity: number;
  unit: string;
  unit_price_cents: number;
  price_per: number;
  amount_cents: number;
}

export interface Invoice {
  tenant: string;
  period: string;
  status: 'open' | 'final';
  plan: string;
  currency: string;
  lines: InvoiceLine[];
  total_cents: number;
}

/** A configured provider of `GET …/model-provider`. */
export interface ModelProvider {
  configured: true;
  base_url: string;
  model: string;
  api_key_set: boolean;
  updated_at: string;
}

/** `GET …/model-provider`: a provider, or the built-in model. */
export type ModelSetting = ModelProvider | { configured: false; model: string; api_key_set: false };

export interface Site {
  name: string;
  live_version: number;
  updated_at: string;
  /** Where the live version is served, e.g. `/t/acme/sites/docs/`. */
  url: string;
}

export interface SiteVersion {
  version: number;
  files: string[];
  bytes: number;
  plugin: string;
  created_at: string;
}

export interface SiteDetail extends Site {
  /** Newest first. */
  versions: SiteVersion[];
}

/** `POST …/orchestrator/plan`; `run` only when started. */
export interface Plan {
  template: string;
  workflow: string;
  description: string;
  parameters: Record<string, unknown>;
  planner: string;
  reasoning: string;
  run?: Run;
}

/** A component of the platform's own that a tenant may enable (`GET /api/v1/first-party`). */
export interface FirstPartyOffer {
  name: string;
  version: string;
  description: string;
  grants: Grants;
}

/** A tenant as a platform administrator lists it (`GET /api/v1/tenants`). */
export interface TenantSummary {
  id: string;
  plan: string;
  mcp_access: string;
  created_at: string;
}
