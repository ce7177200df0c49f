import { randomUUID } from 'node:crypto';

const SAFE = /^[A-Za-z0-9._:-]{1,128}$/;

/** A client-supplied `X-Request-Id` is kept when it is short and plain; otherwise a new one is made. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SAFE.test(value) ? value : randomUUID();
}
