// Auto-escaping HTML templates. Every interpolated value is escaped unless it is itself the output
// of `html` (already safe), so markup in payment metadata or a customer's name can only ever be
// text (OPS-9). There is deliberately no way to interpolate a raw string. Characters the free-text
// rule refuses (bidirectional controls, invisible format characters, separators: src/text/free-text.ts)
// that are already stored are shown as a visible token such as ⟨U+202E⟩, never raw, so they cannot
// reorder or hide what the operator reads.
import { markForbidden } from '../text/free-text.ts';

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(value: string): string {
  return markForbidden(value).replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c);
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
