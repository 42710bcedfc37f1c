// The audit log: filters as the API takes them, pages of entries, and export
// of the filtered entries as CSV, JSON or JSON lines.

import { useState, type FormEvent } from 'react';
import { auditExport, auditPage, type AuditFilters } from '../api/audit';
import { messageOf } from '../api/client';
import type { AuditEntry } from '../api/types';
import { useLoad } from '../components/useLoad';
import { Empty, ErrorText, PageHeader, download, formatTime, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';
import { Select } from '../components/Select';

const PAGE = 50;

/** A `datetime-local` value as the API's RFC 3339 UTC text. */
function toRfc3339(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function EntriesTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <div {...scrollable('Audit entries')}>
      <table data-testid="audit-table">
        <caption>Audit entries, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq}>
              <td>{e.seq}</td>
              <td>{formatTime(e.at)}</td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td>{e.target}</td>
              <td>{e.outcome}</td>
              <td>{e.source_ip}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditPage() {
  const { tenant } = useTenant();
  const [form, setForm] = useState({ action: '', actor: '', outcome: '', since: '', until: '' });
  const [filters, setFilters] = useState<AuditFilters>({});
  const [after, setAfter] = useState<number[]>([]);
  const [error, setError] = useState<string | null>(null);
  const current = after[after.length - 1];
  const page = useLoad(() => auditPage(tenant, { ...filters, after: current, limit: PAGE }), [tenant, filters, current]);

  function apply(event: FormEvent) {
    event.preventDefault();
    setAfter([]);
    setFilters({
      action: form.action || undefined,
      actor: form.actor || undefined,
      outcome: form.outcome || undefined,
      since: toRfc3339(form.since),
      until: toRfc3339(form.until),
    });
  }

  async function exportAs(format: 'csv' | 'json' | 'jsonl') {
    setError(null);
    try {
      const blob = await auditExport(tenant, { ...filters, limit: 10_000 }, format);
      download(`audit-${tenant}.${format}`, blob);
    } catch (e) {
      setError(messageOf(e));
    }
  }

  const field = (key: keyof typeof form, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} value={form[key]} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
    </label>
  );

  return (
    <>
      <PageHeader title="Audit log" />
      <form className="card" onSubmit={apply} aria-label="Audit filters">
        <div className="row">
          {field('action', 'Action (e.g. plugin.enable)')}
          {field('actor', 'Actor (e.g. user:alice)')}
          <Select
            label="Outcome"
            value={form.outcome}
            onChange={(outcome) => setForm({ ...form, outcome })}
            options={[{ value: '', text: 'any' }, 'success', 'denied', 'failure']}
          />
          {field('since', 'Since', 'datetime-local')}
          {field('until', 'Until', 'datetime-local')}
        </div>
        <div className="actions">
          <button type="submit">Apply filters</button>
          <button type="button" className="secondary" onClick={() => void exportAs('csv')}>
            Export CSV
          </button>
          <button type="button" className="secondary" onClick={() => void exportAs('json')}>
            Export JSON
          </button>
          <button type="button" className="secondary" onClick={() => void exportAs('jsonl')}>
            Export JSON lines
          </button>
        </div>
      </form>
      <ErrorText>{page.error ?? error}</ErrorText>
      {page.data?.entries.length === 0 && <Empty>No entries match.</Empty>}
      {page.data && page.data.entries.length > 0 && <EntriesTable entries={page.data.entries} />}
      <div className="actions">
        <button type="button" className="secondary" disabled={after.length === 0} onClick={() => setAfter(after.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page.data?.next_after}
          onClick={() => page.data?.next_after && setAfter([...after, page.data.next_after])}
        >
          Next page
        </button>
      </div>
    </>
  );
}
