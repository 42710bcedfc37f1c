// Reading the audit log: filters as the API takes them.

import { get, send, errorOf, tenantPath } from './client';
import type { AuditEntry } from './types';

export interface AuditFilters {
  action?: string;
  actor?: string;
  outcome?: string;
  since?: string;
  until?: string;
  after?: number;
  limit?: number;
}

function query(filters: AuditFilters, format?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  if (format) params.set('format', format);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function auditPage(tenant: string, filters: AuditFilters) {
  return get<{ entries: AuditEntry[]; next_after: number | null }>(tenantPath(tenant, `/audit${query(filters)}`));
}

/** The entries matching `filters` as the server exports them (csv, json or jsonl). */
export async function auditExport(tenant: string, filters: AuditFilters, format: 'csv' | 'json' | 'jsonl'): Promise<Blob> {
  const response = await send('GET', tenantPath(tenant, `/audit${query(filters, format)}`));
  if (!response.ok) throw await errorOf(response);
  return response.blob();
}
