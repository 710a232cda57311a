import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describeForbidden, firstForbidden, forbiddenCharacters, freeTextProblem, markForbidden } from './free-text.ts';

const REFUSED: ReadonlyArray<[number, string]> = [
  [0x202a, 'bidirectional'],
  [0x202b, 'bidirectional'],
  [0x202c, 'bidirectional'],
  [0x202d, 'bidirectional'],
  [0x202e, 'bidirectional'],
  [0x2066, 'bidirectional'],
  [0x2067, 'bidirectional'],
  [0x2068, 'bidirectional'],
  [0x2069, 'bidirectional'],
  [0x200e, 'bidirectional'],
  [0x200f, 'bidirectional'],
  [0x061c, 'bidirectional'],
  [0x200b, 'invisible format'],
  [0x2060, 'invisible format'],
  [0x2061, 'invisible format'],
  [0x2062, 'invisible format'],
  [0x2063, 'invisible format'],
  [0x2064, 'invisible format'],
  [0xfeff, 'invisible format'],
  [0x00ad, 'invisible format'],
  [0x2028, 'separator'],
  [0x2029, 'separator'],
  [0x0000, 'control'],
  [0x0009, 'control'],
  [0x000a, 'control'],
  [0x001b, 'control'],
  [0x007f, 'control'],
  [0x0085, 'control'],
  [0x009f, 'control'],
  [0xe0041, 'tag character'],
];

test('every refused character is found, with its code point, position and kind', () => {
  for (const [cp, kind] of REFUSED) {
    const text = `ab${String.fromCodePoint(cp)}cd`;
    assert.deepEqual(firstForbidden(text), { index: 2, codePoint: cp }, cp.toString(16));
    const message = describeForbidden('description', { index: 2, codePoint: cp });
    assert.match(message, new RegExp(`^description contains U\\+${cp.toString(16).toUpperCase().padStart(4, '0')} `));
    assert.match(message, new RegExp(kind));
  }
  assert.deepEqual(firstForbidden('x\ud800y'), { index: 1, codePoint: 0xd800 }, 'a lone surrogate');
});

test('ZWNJ and ZWJ are allowed: Persian, Indic and emoji sequences', () => {
  for (const text of [
    'می\u200Cخواهم', // Persian with ZWNJ
    'क्\u200Dष', // Devanagari with ZWJ
    '👩\u200D💻 and 👨\u200D👩\u200D👧', // emoji ZWJ sequences
    'Ada Lovelace, £12.50 — ok ✓',
  ])
    assert.equal(firstForbidden(text), undefined, text);
});

test('emoji tag characters only in a run right after U+1F3F4', () => {
  const scotland = '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}';
  assert.equal(firstForbidden(`Flag ${scotland} ok`), undefined);
  assert.deepEqual(firstForbidden('x\u{E0067}\u{E0062}'), { index: 1, codePoint: 0xe0067 }, 'not after the flag');
  assert.deepEqual(firstForbidden('🏴 \u{E0067}'), { index: 3, codePoint: 0xe0067 }, 'a space breaks the run');
  // After a refused tag, the rest of the run is refused too.
  assert.equal([...forbiddenCharacters('a\u{E0067}\u{E0062}')].length, 2);
});

test('stored text is shown with each refused character as a visible token', () => {
  assert.equal(markForbidden('pay\u202Eevil'), 'pay⟨U+202E⟩evil');
  assert.equal(markForbidden('a\u200Bb\uFEFFc\u2028d'), 'a⟨U+200B⟩b⟨U+FEFF⟩c⟨U+2028⟩d');
  assert.equal(markForbidden('x\u{E0041}y'), 'x⟨U+E0041⟩y', 'an astral character is one token');
  assert.equal(markForbidden('line one\nline\ttwo\r'), 'line one\nline\ttwo\r', 'tab and line breaks stay');
  assert.equal(markForbidden('می\u200Cخواهم'), 'می\u200Cخواهم');
});

test('property: after marking, no refused character is left except tab and line breaks', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
      const left = [...forbiddenCharacters(markForbidden(text))].map((f) => f.codePoint);
      assert.ok(left.every((cp) => cp === 0x09 || cp === 0x0a || cp === 0x0d));
    }),
  );
});

test('the command line applies the same rule to its free-text options', () => {
  assert.equal(freeTextProblem('--text', 'the key leaked in a fork', 3, 2000), undefined);
  assert.match(freeTextProblem('--text', 'ab', 3, 2000)!, /--text must be 3 to 2000 characters/);
  assert.match(
    freeTextProblem('--reason', 'gdpr \u202Erequest', 3, 200)!,
    /^--reason contains U\+202E \(a bidirectional control\)/,
  );
});
