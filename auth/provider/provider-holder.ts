import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { KeyMaterial, KeyStore } from '../keys/key-store.js';
import { providerRequest } from './request-context.js';

export interface CurrentProvider {
  readonly provider: Provider;
  readonly keys: KeyMaterial;
  readonly callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/**
 * Holds the oidc-provider instance built for the current key set. oidc-provider fixes its keys at
 * construction, so when the keys change (`hearth keys rotate`, or another process sharing the
 * database) a request after at most `checkEveryMs` builds a new instance; all state lives in the
 * database, nothing is lost. `current(true)` checks at once (e.g. for a token naming an unknown kid).
 */
export class ProviderHolder {
  #current: CurrentProvider | undefined;
  #checkedAt = 0;
  #checking: Promise<CurrentProvider> | undefined;

  constructor(
    private readonly keyStore: KeyStore,
    private readonly build: (keys: KeyMaterial) => Provider,
    private readonly checkEveryMs = 1000,
  ) {}

  /** The instance in use, re-checking the key set when the last check is older than checkEveryMs. */
  current(fresh = false): Promise<CurrentProvider> {
    if (this.#current !== undefined && !fresh && Date.now() - this.#checkedAt < this.checkEveryMs)
      return Promise.resolve(this.#current);
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  /** The last instance built (after the first `current()`), without a database round trip. */
  last(): CurrentProvider {
    if (this.#current === undefined) throw new Error('ProviderHolder: call current() first');
    return this.#current;
  }

  async #check(): Promise<CurrentProvider> {
    const version = await this.keyStore.version();
    this.#checkedAt = Date.now();
    if (this.#current?.keys.version === version) return this.#current;
    const keys = await this.keyStore.material();
    const provider = this.build(keys);
    const handler = provider.callback();
    this.#current = {
      provider,
      keys,
      callback: (req, res) => providerRequest(() => handler(req, res)),
    };
    return this.#current;
  }
}
