// A labelled bar chart (chart.js) with the same figures in a table for
// screen readers.

import { BarElement, CategoryScale, Chart as ChartJS, Legend, LinearScale, Tooltip } from 'chart.js';
import { Bar } from 'react-chartjs-2';
import { scrollable } from './ui';

ChartJS.register(BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  values: number[];
  color: string;
}

interface Props {
  title: string;
  labels: string[];
  series: Series[];
  unit?: string;
}

export function BarChart({ title, labels, series, unit }: Props) {
  const id = `chart-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <figure className="card chart" aria-labelledby={id}>
      <figcaption id={id}>
        {title}
        {unit ? ` (${unit})` : ''}
      </figcaption>
      <div className="chart-box">
        <Bar
          role="img"
          aria-label={`${title}: bar chart; the table below has the figures`}
          options={{
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            plugins: { legend: { display: series.length > 1 } },
            scales: { y: { beginAtZero: true } },
          }}
          data={{
            labels,
            datasets: series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color })),
          }}
        />
      </div>
      <details>
        <summary>Figures of {title.toLowerCase()}</summary>
        <div {...scrollable(`Figures of ${title}`)}>
          <table>
            <thead>
              <tr>
                <th scope="col">Plugin</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((label, i) => (
                <tr key={label}>
                  <th scope="row">{label}</th>
                  {series.map((s) => (
                    <td key={s.label}>{s.values[i]?.toLocaleString()}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
