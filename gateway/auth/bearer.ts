const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** Most headers remembered (only headers whose token verified are remembered). */
const MAX_REMEMBERED = 10_000;
const remembered = new Map<string, string>();

/**
 * The token of an RFC 6750 `Authorization: Bearer <token>` header; undefined when the header is not
 * of that form. A client sends the same ~1 kB header with every request: for a header remembered
 * (below) the token is the very string object returned before, so the Maps keyed by it hash it once,
 * not on every request, and the header is not matched against the pattern again.
 */
export function bearerToken(header: string): string | undefined {
  return remembered.get(header) ?? BEARER.exec(header)?.[1];
}

/**
 * Remembers a header whose token verified, when it is just the scheme, one space and the token (a
 * forged token is never kept, nor a header padded with spaces: at most a token's size each).
 */
export function rememberBearer(header: string, token: string): void {
  if (header.length !== 7 + token.length || remembered.has(header)) return;
  if (remembered.size >= MAX_REMEMBERED) remembered.clear();
  remembered.set(header, token);
}
