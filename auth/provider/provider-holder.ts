import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { KeyMaterial, KeyStore } from '../keys/key-store.js';

export interface CurrentProvider {
  readonly provider: Provider;
  readonly keys: KeyMaterial;
  readonly callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/**
 * Holds the oidc-provider instance built for the current key set. oidc-provider fixes its keys at
 * construction, so when `hearth keys rotate` (another process) changes them, the next request after
 * at most `checkEveryMs` builds a new instance; all state lives in the database, nothing is lost.
 */
export class ProviderHolder {
  #current: CurrentProvider | undefined;
  #checkedAt = 0;

  constructor(
    private readonly keyStore: KeyStore,
    private readonly build: (keys: KeyMaterial) => Provider,
    private readonly checkEveryMs = 1000,
  ) {}

  current(): CurrentProvider {
    const now = Date.now();
    if (this.#current !== undefined && now - this.#checkedAt < this.checkEveryMs)
      return this.#current;
    this.#checkedAt = now;
    const version = this.keyStore.version();
    if (this.#current?.keys.version === version) return this.#current;
    const keys = this.keyStore.material();
    const provider = this.build(keys);
    const handler = provider.callback();
    this.#current = {
      provider,
      keys,
      callback: (req, res) => handler(req, res),
    };
    return this.#current;
  }
}
