// A labelled drop-down. The label is not wrapped around the <select>, so the
// control's accessible name is the label alone (not the label plus every option).

import { useId } from 'react';

export type Option = string | { value: string; text: string };

interface Props {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: Option[];
  disabled?: boolean;
}

export function Select({ label, value, onChange, options, disabled }: Props) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) =>
          typeof o === 'string' ? (
            <option key={o}>{o}</option>
          ) : (
            <option key={o.value} value={o.value}>
              {o.text}
            </option>
          ),
        )}
      </select>
    </div>
  );
}
