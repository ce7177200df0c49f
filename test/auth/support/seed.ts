import { openAdmin, type Admin } from '../../../auth/cli/admin.js';
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
  return admin(h, async (a) => {
    const u = await a.users.add({
      username,
      password: PASSWORD,
      fhirUser: opts.fhirUser,
      roles: opts.roles ?? ['fhir-smart-user'],
    });
    return u.id;
  });
}

export async function addClient(
  h: Harness,
  over: Partial<NewClient> = {},
): Promise<{ clientId: string; clientSecret: string | undefined }> {
  return admin(h, (a) =>
    a.addClient({
      name: 'Test app',
      redirectUris: [REDIRECT],
      authMethod: 'none',
      ...over,
    }),
  );
}

/** Runs `fn` on the admin stores the CLI uses (their own connection), then closes them. */
export async function admin<T>(h: Harness, fn: (a: Admin) => Promise<T>): Promise<T> {
  const a = await openAdmin(h.config);
  try {
    return await fn(a);
  } finally {
    await a.close();
  }
}

export const adminAsync = admin;
