import { interactionPolicy, type InteractionResults, type KoaContextWithOIDC } from 'oidc-provider';
import type { UserInfo } from '../types.js';
import type { ProviderDeps } from './deps.js';

const { Check, Prompt, base } = interactionPolicy;

/** What the SMART prompts store in the interaction result. */
export interface SmartResults extends InteractionResults {
  patient_select?: { patient: string };
  encounter_select?: { encounter?: string | undefined };
}

export function isPatientUser(user: UserInfo | undefined): boolean {
  return user?.fhirUser?.startsWith('Patient/') === true;
}

/** The patient a standalone launch already has: a Patient user's own record, or one picked. */
export function knownPatient(
  user: UserInfo | undefined,
  result: SmartResults | undefined,
): string | undefined {
  if (isPatientUser(user)) return user?.fhirUser?.slice('Patient/'.length);
  return result?.patient_select?.patient;
}

/**
 * login → patient_select → encounter_select → consent. A session whose user was disabled or removed
 * must sign in again. A standalone launch that asks for `launch/patient` (or any patient/ scope)
 * picks a patient (a Patient user is their own); `launch/encounter` then picks an encounter.
 */
export function smartInteractionPolicy(deps: ProviderDeps): interactionPolicy.DefaultPolicy {
  const policy = base();
  const sessionUser = async (ctx: KoaContextWithOIDC) => {
    const id = ctx.oidc.session?.accountId;
    return id === undefined ? undefined : deps.users.findById(id);
  };
  const launchContext = async (ctx: KoaContextWithOIDC) => {
    const launch = ctx.oidc.params?.['launch'];
    return typeof launch === 'string' && launch !== '' ? deps.launches.peek(launch) : undefined;
  };
  const isLaunch = (ctx: KoaContextWithOIDC) => typeof ctx.oidc.params?.['launch'] === 'string';

  policy.get('login')?.checks.add(
    new Check(
      'account_unavailable',
      'the signed-in account is disabled or removed',
      'login_required',
      async (ctx) => {
        if (ctx.oidc.session?.accountId === undefined) return Check.NO_NEED_TO_PROMPT;
        return (await sessionUser(ctx))?.enabled === true
          ? Check.NO_NEED_TO_PROMPT
          : Check.REQUEST_PROMPT;
      },
    ),
  );

  const patientPrompt = new Prompt(
    { name: 'patient_select', requestable: false },
    new Check(
      'patient_context_missing',
      'a patient must be selected',
      'interaction_required',
      async (ctx) => {
        const scopes = [...ctx.oidc.requestParamScopes];
        const wants =
          scopes.includes('launch/patient') || scopes.some((s) => s.startsWith('patient/'));
        if (!wants) return Check.NO_NEED_TO_PROMPT;
        // After consent the grant's context holds the patient (the launch handle is used up).
        if (ctx.oidc.result?.consent?.grantId !== undefined) return Check.NO_NEED_TO_PROMPT;
        if ((await launchContext(ctx))?.context.patient !== undefined)
          return Check.NO_NEED_TO_PROMPT;
        const known = knownPatient(await sessionUser(ctx), ctx.oidc.result);
        return known === undefined ? Check.REQUEST_PROMPT : Check.NO_NEED_TO_PROMPT;
      },
    ),
  );
  const encounterPrompt = new Prompt(
    { name: 'encounter_select', requestable: false },
    new Check(
      'encounter_context_missing',
      'an encounter may be selected',
      'interaction_required',
      async (ctx) => {
        if (!deps.encounterPicker || isLaunch(ctx)) return Check.NO_NEED_TO_PROMPT;
        if (!ctx.oidc.requestParamScopes.has('launch/encounter')) return Check.NO_NEED_TO_PROMPT;
        const result = ctx.oidc.result as SmartResults | undefined;
        if (result?.encounter_select !== undefined) return Check.NO_NEED_TO_PROMPT;
        return knownPatient(await sessionUser(ctx), result) === undefined
          ? Check.NO_NEED_TO_PROMPT
          : Check.REQUEST_PROMPT;
      },
    ),
  );
  policy.add(patientPrompt, 1);
  policy.add(encounterPrompt, 2);
  return policy;
}
