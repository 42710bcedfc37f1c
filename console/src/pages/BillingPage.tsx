// Usage of a month per plugin with the plan's quotas, and the month's invoice.

import { useState } from 'react';
import { get, tenantPath } from '../api/client';
import type { Invoice, Usage } from '../api/types';
import { useLoad } from '../components/useLoad';
import { ErrorText, Loading, PageHeader, formatBytes, scrollable } from '../components/ui';
import { useTenant } from '../session/SessionContext';

function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

function money(cents: number, currency: string): string {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
}

function Quota({ label, used, limit, format }: { label: string; used: number; limit: number | null; format: (n: number) => string }) {
  return (
    <div className="quota">
      <span>
        {label}: {format(used)} of {limit === null ? 'unlimited' : format(limit)}
      </span>
      {limit !== null && limit > 0 && (
        <meter min={0} max={limit} value={Math.min(used, limit)} aria-label={`${label} used`}>
          {Math.round((used / limit) * 100)}%
        </meter>
      )}
    </div>
  );
}

function UsageTable({ usage }: { usage: Usage }) {
  return (
    <section className="card" aria-labelledby="usage-title">
      <h2 id="usage-title">
        Usage in {usage.period} (plan {usage.plan})
      </h2>
      <Quota label="Invocations" {...usage.quotas.invocations} format={(n) => n.toLocaleString()} />
      <Quota label="Storage" {...usage.quotas.storage_bytes} format={formatBytes} />
      <div {...scrollable('Usage per plugin')}>
        <table>
          <caption>Per plugin</caption>
          <thead>
            <tr>
              <th scope="col">Plugin</th>
              <th scope="col">Invocations</th>
              <th scope="col">Call time</th>
              <th scope="col">Fuel</th>
              <th scope="col">Peak memory</th>
              <th scope="col">Egress</th>
              <th scope="col">Storage</th>
            </tr>
          </thead>
          <tbody>
            {usage.plugins.map((p) => (
              <tr key={p.plugin}>
                <td>{p.plugin}</td>
                <td>{p.invocations.toLocaleString()}</td>
                <td>{(p.wall_micros / 1000).toFixed(1)} ms</td>
                <td>{p.fuel.toLocaleString()}</td>
                <td>{formatBytes(p.peak_memory_bytes)}</td>
                <td>{formatBytes(p.egress_bytes)}</td>
                <td>{formatBytes(p.storage_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function InvoiceView({ invoice }: { invoice: Invoice }) {
  return (
    <section className="card" aria-labelledby="invoice-title">
      <h2 id="invoice-title">
        Invoice {invoice.period} ({invoice.status})
      </h2>
      <div {...scrollable('Invoice lines')}>
        <table>
          <caption>Lines, priced by plan {invoice.plan}</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Quantity</th>
              <th scope="col">Price</th>
              <th scope="col">Amount</th>
            </tr>
          </thead>
          <tbody>
            {invoice.lines.map((l) => (
              <tr key={l.item}>
                <td>{l.description}</td>
                <td>
                  {l.quantity.toLocaleString()} {l.unit}
                </td>
                <td>
                  {money(l.unit_price_cents, invoice.currency)} per {l.price_per.toLocaleString()} {l.unit}
                </td>
                <td>{money(l.amount_cents, invoice.currency)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row" colSpan={3}>
                Total
              </th>
              <td>{money(invoice.total_cents, invoice.currency)}</td>
            </tr>
          </tfoot>
        </table>
      </div>
    </section>
  );
}

export function BillingPage() {
  const { tenant } = useTenant();
  const [period, setPeriod] = useState(thisMonth);
  const usage = useLoad(() => get<Usage>(tenantPath(tenant, `/usage?period=${period}`)), [tenant, period]);
  const invoice = useLoad(() => get<Invoice>(tenantPath(tenant, `/invoices/${period}`)), [tenant, period]);

  return (
    <>
      <PageHeader title="Usage and invoices">
        <label>
          Month
          <input type="month" value={period} max={thisMonth()} onChange={(e) => e.target.value && setPeriod(e.target.value)} />
        </label>
      </PageHeader>
      <ErrorText>{usage.error ?? invoice.error}</ErrorText>
      {usage.data ? <UsageTable usage={usage.data} /> : <Loading what="usage" />}
      {invoice.data && <InvoiceView invoice={invoice.data} />}
    </>
  );
}
