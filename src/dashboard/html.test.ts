import { test } from 'node:test';
import assert from 'node:assert/strict';
import { html, SafeHtml } from './html.ts';

test('interpolated values are escaped; nested templates are not escaped twice', () => {
  const name = '"><img src=x onerror=alert(1)>';
  const out = html`<p title="${name}">${'<script>alert(1)</script>'}</p>${html`<b>${'&'}</b>`}`;
  assert.equal(
    out.value,
    '<p title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</p><b>&amp;</b>',
  );
});

test('lists render each item; null, undefined and false render nothing; numbers render as text', () => {
  assert.equal(
    html`<ul>${['a', '<b>'].map((x) => html`<li>${x}</li>`)}</ul>`.value,
    '<ul><li>a</li><li>&lt;b&gt;</li></ul>',
  );
  assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
  assert.ok(html`x` instanceof SafeHtml);
});
