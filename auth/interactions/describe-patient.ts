import type { PatientSummary, UserInfo } from '../types.js';
import type { InteractionDeps } from './interaction-deps.js';

/**
 * Who the consent page is about: the patient found by id through the configured patient search,
 * as the signed-in user (so it is audited and limited like any look-up of theirs). A patient the
 * search cannot find or a failing search leaves the page with the bare id, never without a page.
 */
export async function describePatient(
  deps: Pick<InteractionDeps, 'searchPatients' | 'log'>,
  patient: string | undefined,
  user: UserInfo,
): Promise<PatientSummary | undefined> {
  if (patient === undefined || deps.searchPatients === undefined) return undefined;
  try {
    const found = await deps.searchPatients({ id: patient, page: 1 }, user);
    return found.patients.find((p) => p.id === patient);
  } catch (err) {
    deps.log.warn({ err }, 'consent: could not look up the patient by id');
    return undefined;
  }
}
