/** FHIR search value escaping (R4 search.html §escaping): `\,` `\$` `\|` `\\`. */

/** Splits `s` on each `sep` that is not escaped; the parts keep their other escapes. */
export function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + (s[i + 1] ?? '');
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** Removes the escaping backslashes. */
export function unescapeValue(s: string): string {
  return s.replace(/\\([\\,$|])/g, '$1');
}

/** Splits a token-like value `system|code` on its first unescaped `|`, unescaped. */
export function splitSystem(s: string): { system: string | undefined; code: string } {
  const parts = splitUnescaped(s, '|');
  if (parts.length === 1) return { system: undefined, code: unescapeValue(s) };
  const [sys = '', ...rest] = parts;
  return { system: unescapeValue(sys), code: unescapeValue(rest.join('|')) };
}

export const PREFIXES = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'] as const;
export type Prefix = (typeof PREFIXES)[number];

/** Splits an ordered value's prefix: `ge2015` → ge, `2015`; no prefix means `eq`. */
export function splitPrefix(s: string): { prefix: Prefix; value: string } {
  const p = s.slice(0, 2) as Prefix;
  if (PREFIXES.includes(p) && s.length > 2 && !/^[a-z]/.test(s.slice(2, 3)))
    return { prefix: p, value: s.slice(2) };
  return { prefix: 'eq', value: s };
}
