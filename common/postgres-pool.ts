import pg from 'pg';
import type { CustomTypesConfig, Pool, PoolClient } from 'pg';

const INT8 = 20;
type Parser = (text: string) => unknown;
const builtin = pg.types.getTypeParser as (oid: number, format?: 'text' | 'binary') => Parser;
const int8: Parser = (text) => Number(text);

/**
 * Type parsers for the auth and audit pools: bigint columns (epoch seconds, sequence numbers) come
 * back as JS numbers. Per pool, so pg's global parsers stay untouched for other users of `pg`.
 */
export const int8AsNumber: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    format !== 'binary' && oid === INT8
      ? int8
      : builtin(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/**
 * Runs `fn` in one transaction on a pooled connection: `begin` (default `BEGIN`; it may be several
 * statements, whose results `fn` receives), then COMMIT, or ROLLBACK when `fn` throws. A connection
 * whose ROLLBACK fails is released as broken, so the pool discards it instead of handing out a
 * session stuck in a failed transaction.
 */
export async function withPgTransaction<T>(
  pool: Pool,
  fn: (client: PoolClient, begun: pg.QueryResult | pg.QueryResult[]) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const begun = (await client.query(begin)) as pg.QueryResult | pg.QueryResult[];
    const value = await fn(client, begun);
    await client.query('COMMIT');
    return value;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
