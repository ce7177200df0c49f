import { randomBytes } from 'node:crypto';
import type { Bundle } from '@medplum/fhirtypes';
import { SAMPLE_APP, sampleAppUrls } from '../launch-ui/sample-app.js';
import { demoBundles, DEFAULT_SEED } from './generate.js';
import { generateShared } from './record/shared.js';
import { patientIdOf } from './record/patient-record.js';

/** What loading Bundles reports (the `hearth import` summary). */
export interface ImportSummary {
  readonly created: number;
  readonly updated: number;
  readonly failed: number;
}

/** The store's import path, supplied by the composition root; Bundles arrive lazily, in order. */
export type ImportBundles = (bundles: Iterable<Bundle>) => Promise<ImportSummary>;

/** The account and client operations seeding needs (auth's account store, adapted by main.ts). */
export interface DemoAccountStore {
  userExists(username: string): boolean | Promise<boolean>;
  addUser(input: {
    readonly username: string;
    readonly password: string;
    readonly fhirUser: string;
    readonly roles: readonly string[];
  }): Promise<void>;
  /** Client ids of registered clients whose launch URI is this one. */
  findClientsByLaunchUri(launchUri: string): readonly string[] | Promise<readonly string[]>;
  addPublicClient(input: {
    readonly name: string;
    readonly redirectUris: readonly string[];
    readonly launchUri: string;
    readonly scope: string;
    readonly grantTypes: readonly string[];
  }): Promise<{ readonly clientId: string }>;
}

export interface SeedOptions {
  readonly publicUrl: string;
  readonly patients: number;
  readonly seed?: string;
  readonly importBundles: ImportBundles;
  readonly accounts: DemoAccountStore;
  /** Where the sign-in details go (stdout in `npm run demo`); passwords are printed only here, once. */
  readonly print: (line: string) => void;
}

export interface SeedResult {
  readonly imported: ImportSummary;
  readonly clinician: {
    readonly username: string;
    readonly fhirUser: string;
    readonly created: boolean;
  };
  readonly patient: {
    readonly username: string;
    readonly fhirUser: string;
    readonly created: boolean;
  };
  readonly sampleClientId: string;
}

export const CLINICIAN_USERNAME = 'clinician';
export const PATIENT_USERNAME = 'patient';

/** 18 random bytes as base64url: 24 characters, 144 bits. */
function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

async function ensureUser(
  opts: SeedOptions,
  username: string,
  fhirUser: string,
  roles: readonly string[],
): Promise<boolean> {
  if (await opts.accounts.userExists(username)) {
    opts.print(
      `  ${username}: already exists (reset its password with: npx hearth user passwd ${username} --password-stdin)`,
    );
    return false;
  }
  const password = randomPassword();
  await opts.accounts.addUser({ username, password, fhirUser, roles });
  opts.print(
    `  ${username}: password ${password}   (shown once; reset with: npx hearth user passwd ${username} --password-stdin)`,
  );
  return true;
}

/**
 * Seeds the demo idempotently: synthetic patients (PUT with fixed ids, so a second run changes
 * nothing), a clinician account bound to the first practitioner, a patient account bound to the
 * first patient (random passwords, printed once when created), and the sample app as a public client.
 */
export async function seedDemo(opts: SeedOptions): Promise<SeedResult> {
  const seed = opts.seed ?? DEFAULT_SEED;
  const shared = generateShared(seed);
  const practitionerId = shared.practitioners[0]?.id ?? '';

  opts.print(`Hearth demo: loading ${opts.patients} synthetic patients (seed "${seed}")…`);
  const imported = await opts.importBundles(demoBundles({ patients: opts.patients, seed }));
  opts.print(
    `  ${imported.created} created, ${imported.updated} updated, ${imported.failed} failed`,
  );

  opts.print('Sign-in accounts:');
  const clinicianUser = `Practitioner/${practitionerId}`;
  const clinicianCreated = await ensureUser(opts, CLINICIAN_USERNAME, clinicianUser, [
    'fhir-smart-user',
    'fhir-data-reader',
  ]);
  const patientUser = `Patient/${patientIdOf(seed, 0)}`;
  const patientCreated =
    opts.patients > 0
      ? await ensureUser(opts, PATIENT_USERNAME, patientUser, ['fhir-smart-user'])
      : false;

  const urls = sampleAppUrls(opts.publicUrl);
  let sampleClientId = (await opts.accounts.findClientsByLaunchUri(urls.launchUri))[0];
  if (imported.failed > 0)
    opts.print(`  warning: ${imported.failed} resources failed to load (see the log)`);
  if (sampleClientId === undefined) {
    const added = await opts.accounts.addPublicClient({
      name: SAMPLE_APP.name,
      redirectUris: [urls.redirectUri],
      launchUri: urls.launchUri,
      scope: SAMPLE_APP.allowedScope,
      grantTypes: ['authorization_code', 'refresh_token'],
    });
    sampleClientId = added.clientId;
  }
  opts.print(`Sample SMART app: ${urls.redirectUri} (client_id ${sampleClientId})`);
  opts.print(`Sign in as the clinician at ${opts.publicUrl}/`);
  return {
    imported,
    clinician: { username: CLINICIAN_USERNAME, fhirUser: clinicianUser, created: clinicianCreated },
    patient: { username: PATIENT_USERNAME, fhirUser: patientUser, created: patientCreated },
    sampleClientId,
  };
}
