/** SQLSTATE codes this engine reacts to. */
export const SQLSTATE = {
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  queryCanceled: '57014',
  uniqueViolation: '23505',
} as const;

function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The SQLSTATE of `err` or of any error in its `cause` chain. */
export function findSqlState(err: unknown, wanted: readonly string[]): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e !== undefined && e !== null; depth += 1) {
    const code = sqlState(e);
    if (code !== undefined && wanted.includes(code)) return code;
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return undefined;
}

/** A conflict with a concurrent transaction: running the transaction again may well succeed. */
export function isRetryable(err: unknown): boolean {
  return (
    findSqlState(err, [SQLSTATE.serializationFailure, SQLSTATE.deadlockDetected]) !== undefined
  );
}

export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
