// The one rule for free text at every edge (descriptions, metadata values, names, narrations,
// reasons, incident notes): no character that is invisible or moves other text around, so what an
// operator reads on the dashboard is what was sent (issue 16; docs/free-text.md says why).
// Refused: C0 and C1 controls and DEL (Cc), lone surrogates (Cs), format characters (Cf: the
// bidirectional controls U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C, the zero-width
// space U+200B, U+2060-U+2064, U+FEFF, the soft hyphen U+00AD...), and the line and paragraph
// separators U+2028, U+2029 (Zl, Zp). Allowed from Cf: ZWNJ U+200C and ZWJ U+200D, which Persian,
// the Indic scripts and emoji sequences need, and the emoji tag characters U+E0020-U+E007F in a
// run right after U+1F3F4 (the subdivision flags, as in 🏴 + tags for Scotland).
import type { Ajv } from 'ajv';
import { Type } from 'typebox';

const SUSPECT = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BLACK_FLAG = 0x1f3f4;
const isTag = (cp: number) => cp >= 0xe0020 && cp <= 0xe007f;

export interface ForbiddenCharacter {
  /** Index in UTF-16 code units. */
  readonly index: number;
  readonly codePoint: number;
}

/** Every refused character of `text`, in order. */
export function* forbiddenCharacters(text: string): Generator<ForbiddenCharacter> {
  if (!SUSPECT.test(text)) return;
  let index = 0;
  let previous = -1;
  for (const char of text) {
    const cp = char.codePointAt(0)!;
    const allowed =
      !SUSPECT.test(char) ||
      cp === ZWNJ ||
      cp === ZWJ ||
      // A tag run continues only from the flag or from a tag that was itself allowed.
      (isTag(cp) && (previous === BLACK_FLAG || isTag(previous)));
    if (!allowed) yield { index, codePoint: cp };
    // A refused tag breaks the run, so the tags after it are refused too.
    previous = allowed ? cp : -1;
    index += char.length;
  }
}

export function firstForbidden(text: string): ForbiddenCharacter | undefined {
  for (const found of forbiddenCharacters(text)) return found;
  return undefined;
}

export const codePointLabel = (cp: number) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;

function kindOf(cp: number): string {
  if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || [0x200e, 0x200f, 0x061c].includes(cp))
    return 'a bidirectional control';
  if (cp === 0x2028 || cp === 0x2029) return 'a line or paragraph separator';
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return 'a control character';
  if (cp >= 0xd800 && cp <= 0xdfff) return 'a lone surrogate';
  if (isTag(cp)) return 'a tag character outside an emoji flag';
  return 'an invisible format character';
}

/** What the 400 says: the field, the code point and what kind of character it is. */
export function describeForbidden(field: string, found: ForbiddenCharacter): string {
  return `${field} contains ${codePointLabel(found.codePoint)} (${kindOf(found.codePoint)}) at position ${found.index}; free text may not contain control, invisible format or separator characters.`;
}

/**
 * How stored text that predates the rule (or came in another way) is shown: each refused
 * character as a visible token, never raw. Tab, line feed and carriage return stay as they are.
 */
export function markForbidden(text: string): string {
  if (!SUSPECT.test(text)) return text;
  let out = '';
  let from = 0;
  for (const { index, codePoint } of forbiddenCharacters(text)) {
    if (codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d) continue;
    out += `${text.slice(from, index)}⟨${codePointLabel(codePoint)}⟩`;
    from = index + (codePoint > 0xffff ? 2 : 1);
  }
  return out + text.slice(from);
}

/** The schema keyword: `x-free-text: true` on a string applies the rule, before its pattern. */
export const FREE_TEXT_KEYWORD = 'x-free-text';

export function addFreeTextKeyword(ajv: Ajv): void {
  ajv.addKeyword({
    keyword: FREE_TEXT_KEYWORD,
    type: 'string',
    schemaType: 'boolean',
    before: 'pattern',
    errors: true,
    validate: function check(enabled: boolean, data: string) {
      if (!enabled) return true;
      const found = firstForbidden(data);
      if (found === undefined) return true;
      (check as unknown as { errors: unknown[] }).errors = [
        {
          keyword: FREE_TEXT_KEYWORD,
          message: codePointLabel(found.codePoint),
          params: { codePoint: found.codePoint, index: found.index },
        },
      ];
      return false;
    },
  });
}

/** A free-text string schema: its length limits (and any stricter allowlist) plus the rule. */
export const FreeText = (options: {
  minLength?: number;
  maxLength: number;
  pattern?: string;
  format?: string;
  description?: string;
}) => Type.String({ ...options, [FREE_TEXT_KEYWORD]: true });

/**
 * A person's or business's name: letters, marks, digits, spaces and the punctuation names use,
 * plus ZWNJ and ZWJ (a Persian name needs them), under the free-text rule.
 */
export const PersonName = (maxLength: number) =>
  FreeText({ minLength: 1, maxLength, pattern: "^[\\p{L}\\p{M}\\p{N} .,'’()&/\\u200C\\u200D-]+$" });

/** The same rule where no schema runs (the command line's options): why `value` is refused, if it is. */
export function freeTextProblem(
  field: string,
  value: string,
  minLength: number,
  maxLength: number,
): string | undefined {
  if (value.length < minLength || value.length > maxLength)
    return `${field} must be ${minLength} to ${maxLength} characters`;
  const found = firstForbidden(value);
  return found === undefined ? undefined : describeForbidden(field, found);
}
