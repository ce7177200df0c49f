import { openAdmin } from '../../../auth/cli/admin.js';
import type { NewClient } from '../../../auth/clients/clients.js';
import type { Harness } from './harness.js';
import { REDIRECT } from './flow.js';

export const PASSWORD = 'correct horse battery';

/** Adds accounts and clients through the same stores the CLI uses (a second DB connection). */
export async function addUser(
  h: Harness,
  username: string,
  opts: { fhirUser?: string; roles?: string[] } = {},
): Promise<string> {
  const admin = openAdmin(h.config);
  try {
    const u = await admin.users.add({
      username,
      password: PASSWORD,
      fhirUser: opts.fhirUser,
      roles: opts.roles ?? ['fhir-smart-user'],
    });
    return u.id;
  } finally {
    admin.close();
  }
}

export async function addClient(
  h: Harness,
  over: Partial<NewClient> = {},
): Promise<{ clientId: string; clientSecret: string | undefined }> {
  const admin = openAdmin(h.config);
  try {
    return await admin.addClient({
      name: 'Test app',
      redirectUris: [REDIRECT],
      authMethod: 'none',
      ...over,
    });
  } finally {
    admin.close();
  }
}

export function admin<T>(h: Harness, fn: (a: ReturnType<typeof openAdmin>) => T): T {
  const a = openAdmin(h.config);
  try {
    return fn(a);
  } finally {
    a.close();
  }
}

export async function adminAsync<T>(
  h: Harness,
  fn: (a: ReturnType<typeof openAdmin>) => Promise<T>,
): Promise<T> {
  const a = openAdmin(h.config);
  try {
    return await fn(a);
  } finally {
    a.close();
  }
}
