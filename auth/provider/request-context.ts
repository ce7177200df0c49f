import type { AsyncLocalStorage } from 'node:async_hooks';
import providerContext from 'oidc-provider/lib/helpers/als.js';

const storage: AsyncLocalStorage<unknown> = providerContext;
let inFlight = 0;

/**
 * Runs one oidc-provider request, then switches its request context off again when no other is in
 * flight. oidc-provider keeps each request's Koa context in an AsyncLocalStorage (`als.run` per
 * request). On Node 20 a storage, once run, stays enabled, and while any is enabled every promise,
 * tick and timer of the whole process goes through async_hooks' init hook: after the first token
 * request, every FHIR request through the gateway paid for it. Outside a `run` the store reads
 * `undefined` either way, and the next `run` enables the storage again.
 */
export async function providerRequest(run: () => Promise<void>): Promise<void> {
  inFlight += 1;
  try {
    await run();
  } finally {
    inFlight -= 1;
    if (inFlight === 0) storage.disable();
  }
}
