// Does the account holder's name the provider resolved match the name the merchant gave? Banks
// return names upper-cased, surname first, with middle names, initials or titles the merchant
// left out, so an exact comparison would hold nearly every payout; a loose one lets anyone pass.
// The rule (docs/payout-controls.md): both names are normalised (Unicode NFKD, marks removed,
// case folded, everything but letters and digits a separator), titles and one-letter initials
// dropped, and compared as sets of words in any order: they match when every word of the shorter
// name is in the longer one and the shorter has at least two words (or both are the same single
// word). "Ada Obi" matches "OBI ADA CHIOMA"; "Ada" does not match "Ada Obi"; "Ada Obi" does not
// match "Ada Okafor".
const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'chief', 'alhaji', 'shri', 'smt']);

export function nameWords(name: string): string[] {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && !TITLES.has(word));
}

export function namesMatch(given: string, resolved: string): boolean {
  const a = new Set(nameWords(given));
  const b = new Set(nameWords(resolved));
  if (a.size === 0 || b.size === 0) return false;
  const [shorter, longer] = a.size <= b.size ? [a, b] : [b, a];
  for (const word of shorter) if (!longer.has(word)) return false;
  return shorter.size >= 2 || longer.size === 1;
}
