import type { Adapter, AdapterFactory } from 'oidc-provider';
import type { Clients } from '../clients/clients.js';
import type { OidcStorage } from '../storage/oidc-storage.js';

/**
 * oidc-provider's storage adapter: every model goes to the OidcStorage, except `Client`, which reads
 * the clients table on demand (so `hearth client add|remove` needs no restart).
 */
export function adapterFactory(storage: OidcStorage, clients: Clients): AdapterFactory {
  return (model: string): Adapter =>
    model === 'Client' ? clientAdapter(clients) : modelAdapter(storage, model);
}

function modelAdapter(storage: OidcStorage, model: string): Adapter {
  return {
    upsert: (id, payload, expiresIn) => storage.upsert(model, id, payload, expiresIn),
    find: (id) => storage.find(model, id),
    findByUid: (uid) => storage.findByUid(model, uid),
    findByUserCode: (code) => storage.findByUserCode(model, code),
    consume: (id) => storage.consume(model, id),
    destroy: (id) => storage.destroy(model, id),
    revokeByGrantId: (grantId) => storage.revokeByGrantId(model, grantId),
  };
}

function readOnly(): Promise<void> {
  return Promise.reject(new Error('clients are managed with `hearth client add|remove`'));
}

function clientAdapter(clients: Clients): Adapter {
  return {
    find: async (id) => (await clients.get(id))?.metadata,
    upsert: readOnly,
    findByUid: () => Promise.resolve(undefined),
    findByUserCode: () => Promise.resolve(undefined),
    consume: readOnly,
    destroy: readOnly,
    revokeByGrantId: () => Promise.resolve(),
  };
}
