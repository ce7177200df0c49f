import { createRequire } from 'node:module';
import type pg from 'pg';
import type { CustomTypesConfig } from 'pg';

const require = createRequire(import.meta.url);

/** The pg module, loaded when a PostgreSQL engine first needs it (SQLite deployments never do). */
export function loadPg(): typeof pg {
  return require('pg') as typeof pg;
}

const INT8 = 20;
const NUMERIC = 1700;

/** int8 (bigint, count(*), sum of integers): a JS number when it is a safe integer, else a bigint. */
export function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * numeric (sum/avg of bigint, decimal columns): a JS number when at most 15 significant digits
 * (the double then prints back as the same decimal), else the exact decimal text.
 */
export function parseNumeric(text: string): number | string {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 && /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

type Parser = (text: string) => unknown;

function getTypeParser(oid: number, format?: 'text' | 'binary'): Parser {
  if (format !== 'binary' && oid === INT8) return parseInt8;
  if (format !== 'binary' && oid === NUMERIC) return parseNumeric;
  const builtin = loadPg().types.getTypeParser as (oid: number, f?: 'text' | 'binary') => Parser;
  return builtin(oid, format);
}

/**
 * Type parsers for this engine's pool only (pg's global parsers stay untouched for other users of
 * `pg` in the process). Everything else keeps pg's defaults: int4/float8 → number, bytea → Buffer,
 * bool → boolean, text → string.
 */
export const hearthTypes: CustomTypesConfig = { getTypeParser };
