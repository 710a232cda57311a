// A readable API reference rendered on the server from the OpenAPI description, with the
// dashboard's auto-escaping templates and under the same strict CSP (no script at all, styles
// from our own origin only): every value from the description is text, never markup.
import { html, type SafeHtml } from '../dashboard/html.ts';
import type { JsonSchema, OpenApiDocument } from './document.ts';

interface Operation {
  readonly operationId: string;
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly 'x-required-scope'?: string;
  readonly parameters?: readonly JsonSchema[];
  readonly requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  readonly responses: Record<string, JsonSchema>;
}

/** One line for a schema's type: `string (date-time)`, `integer`, `one of: a, b`, `object`, ... */
function typeOf(schema: JsonSchema | undefined): string {
  if (schema === undefined) return '';
  if (Array.isArray(schema.enum)) return `one of: ${schema.enum.join(', ')}`;
  if ('const' in schema) return `"${String(schema.const)}"`;
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as JsonSchema[]).map(typeOf).join(' | ');
  if (schema.type === 'array') return `array of ${typeOf(schema.items as JsonSchema | undefined)}`;
  const format = typeof schema.format === 'string' ? ` (${schema.format})` : '';
  return `${String(schema.type ?? 'any')}${format}`;
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  for (const key of ['minimum', 'maximum', 'minLength', 'maxLength', 'maxItems', 'maxProperties', 'pattern']) {
    if (schema[key] !== undefined) parts.push(`${key} ${String(schema[key])}`);
  }
  return parts.join(', ');
}

function fieldsTable(schema: JsonSchema | undefined, prefix = ''): SafeHtml[] {
  if (schema === undefined || schema.type !== 'object' || typeof schema.properties !== 'object') return [];
  const required = new Set((schema.required as string[] | undefined) ?? []);
  return Object.entries(schema.properties as Record<string, JsonSchema>).flatMap(([name, field]) => [
    html`<tr><td><code>${prefix}${name}</code></td><td>${typeOf(field)}</td><td>${required.has(name) ? 'required' : 'optional'}</td><td>${typeof field.description === 'string' ? field.description : ''} ${constraints(field)}</td></tr>`,
    ...fieldsTable(field, `${prefix}${name}.`),
  ]);
}

function table(rows: SafeHtml[]): SafeHtml {
  if (rows.length === 0) return html``;
  return html`<table><thead><tr><th>field</th><th>type</th><th></th><th>notes</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function operationSection(path: string, method: string, op: Operation): SafeHtml {
  const parameters = (op.parameters ?? []).filter((p) => typeof p.name === 'string');
  const success = Object.entries(op.responses).filter(([status]) => status.startsWith('2'));
  return html`<section class="operation" id="${op.operationId}">
    <h3><span class="method ${method}">${method.toUpperCase()}</span> <code>${path}</code></h3>
    <p>${op.summary ?? ''}</p>
    ${op.description === undefined ? '' : html`<p>${op.description}</p>`}
    <p class="scope">Scope: <code>${op['x-required-scope'] ?? 'any key'}</code>${method === 'post' ? html` · needs an <code>Idempotency-Key</code> header` : ''}</p>
    ${
      parameters.length === 0
        ? ''
        : html`<h4>Parameters</h4><table><thead><tr><th>name</th><th>in</th><th>type</th><th></th></tr></thead><tbody>${parameters.map(
            (p) =>
              html`<tr><td><code>${String(p.name)}</code></td><td>${String(p.in)}</td><td>${typeOf(p.schema as JsonSchema)} ${constraints((p.schema ?? {}) as JsonSchema)}</td><td>${p.required === true ? 'required' : 'optional'}</td></tr>`,
          )}</tbody></table>`
    }
    ${op.requestBody === undefined ? '' : html`<h4>Body</h4>${table(fieldsTable(op.requestBody.content['application/json'].schema))}`}
    ${success.map(
      ([status, response]) =>
        html`<h4>${status} answer</h4>${table(fieldsTable((response.content as { 'application/json': { schema: JsonSchema } } | undefined)?.['application/json'].schema))}`,
    )}
  </section>`;
}

export function renderReferencePage(doc: OpenApiDocument): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const tags = [...new Set(operations.map((o) => o.op.tags?.[0] ?? 'api'))];
  const errorSchema = (doc.components as { schemas: { Error: JsonSchema } }).schemas.Error;
  const codes = (
    ((errorSchema.properties as Record<string, JsonSchema>).error?.properties as Record<string, JsonSchema>).code
      ?.enum as string[]
  ).map((c) => html`<code>${c}</code> `);
  const webhooks = Object.entries((doc.webhooks ?? {}) as Record<string, { post: Operation }>);
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${info.title} ${info.version}</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/docs/api/reference.css"></head>
<body><header><h1>${info.title}</h1><span class="version">${info.version}</span> <a href="/v1/openapi.json">openapi.json</a></header>
<nav>${tags.map((t) => html`<h2>${t}</h2><ul>${operations.filter((o) => (o.op.tags?.[0] ?? 'api') === t).map((o) => html`<li><a href="#${o.op.operationId}">${o.method.toUpperCase()} ${o.path}</a></li>`)}</ul>`)}
<h2><a href="#webhooks">Events</a></h2></nav>
<main><p>${info.description}</p>
${tags.map((t) => html`<h2 class="tag">${t}</h2>${operations.filter((o) => (o.op.tags?.[0] ?? 'api') === t).map((o) => operationSection(o.path, o.method, o.op))}`)}
<h2 class="tag" id="webhooks">Events sent to your endpoints</h2>
${webhooks.map(([type, { post }]) => html`<section class="operation" id="${post.operationId}"><h3><code>${type}</code></h3><p>${post.summary ?? ''}</p><p>${post.description ?? ''}</p>${table(fieldsTable(post.requestBody?.content['application/json'].schema))}</section>`)}
<h2 class="tag" id="errors">Error codes</h2><p>Every error answers <code>{"error": {type, code, message, param?, request_id}}</code>. Codes:</p><p class="codes">${codes}</p>
</main></body></html>`.value;
}
