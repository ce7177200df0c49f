import type { Auth, AuthOptions } from './types.js';

/** Opens the auth database and keys in DATA_DIR (creating them on first start) and builds the server. */
export function createAuth(_options: AuthOptions): Promise<Auth> {
  return Promise.reject(new Error('createAuth: being implemented on branch auth'));
}
