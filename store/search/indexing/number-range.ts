/**
 * The implicit range of a decimal by its precision (R4 search: `5.4` means [5.35, 5.45), `100`
 * means [99.5, 100.5)). Exponent forms keep their significant digits: `1e2` is [50, 150).
 */
export interface NumberRange {
  value: number;
  lo: number;
  hi: number;
}

export function numberRange(text: string): NumberRange | undefined {
  const t = text.trim();
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const value = Number(t);
  if (!Number.isFinite(value)) return undefined;
  const [mant = '', exp] = t.toLowerCase().split('e');
  const dot = mant.indexOf('.');
  const decimals = dot < 0 ? 0 : mant.length - dot - 1;
  const half = 0.5 * 10 ** (-decimals + Number(exp ?? 0));
  return { value, lo: value - half, hi: value + half };
}
