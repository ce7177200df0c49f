import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  Encounter,
  Immunization,
  MedicationRequest,
  Practitioner,
  Procedure,
  Reference,
} from '@medplum/fhirtypes';
import type { AllergyEntry, Code, ConditionEntry, DrugEntry, EncounterKind } from '../catalog.js';
import { SYSTEM } from '../code-systems.js';
import { DAY_MS, date, instant } from './clock.js';
import type { RecordContext } from './context.js';

function concept(system: string, c: Code): CodeableConcept {
  return { coding: [{ system, code: c.code, display: c.display }], text: c.display };
}

function coded(system: string, code: string, display: string): CodeableConcept {
  return { coding: [{ system, code, display }] };
}

export function encounter(
  ctx: RecordContext,
  kind: EncounterKind,
  startMs: number,
  who: Reference<Practitioner>,
): Encounter {
  return {
    resourceType: 'Encounter',
    id: ctx.rng.uuid(),
    status: 'finished',
    class: { system: SYSTEM.actCode, code: kind.classCode, display: kind.classDisplay },
    type: [concept(SYSTEM.snomed, kind)],
    subject: ctx.patient,
    participant: [{ individual: who }],
    period: { start: instant(startMs), end: instant(startMs + kind.minutes * 60_000) },
    serviceProvider: ctx.organization,
  };
}

export function condition(
  ctx: RecordContext,
  entry: ConditionEntry,
  onsetMs: number,
  encounterRef?: Reference<Encounter>,
): Condition {
  const resolved = !entry.chronic;
  const out: Condition = {
    resourceType: 'Condition',
    id: ctx.rng.uuid(),
    clinicalStatus: coded(
      SYSTEM.conditionClinical,
      resolved ? 'resolved' : 'active',
      resolved ? 'Resolved' : 'Active',
    ),
    verificationStatus: coded(SYSTEM.conditionVerification, 'confirmed', 'Confirmed'),
    category: [
      resolved
        ? coded(SYSTEM.conditionCategory, 'encounter-diagnosis', 'Encounter Diagnosis')
        : coded(SYSTEM.conditionCategory, 'problem-list-item', 'Problem List Item'),
    ],
    code: concept(SYSTEM.snomed, entry),
    subject: ctx.patient,
    onsetDateTime: instant(onsetMs),
    recordedDate: instant(onsetMs),
    recorder: ctx.practitioner,
  };
  if (encounterRef) out.encounter = encounterRef;
  if (resolved) out.abatementDateTime = instant(onsetMs + ctx.rng.int(7, 28) * DAY_MS);
  return out;
}

export function medicationRequest(
  ctx: RecordContext,
  drug: DrugEntry,
  reason: Condition,
  authoredMs: number,
  active: boolean,
): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: ctx.rng.uuid(),
    status: active ? 'active' : 'completed',
    intent: 'order',
    medicationCodeableConcept: concept(SYSTEM.rxnorm, drug),
    subject: ctx.patient,
    authoredOn: instant(authoredMs),
    requester: ctx.practitioner,
    reasonReference: [{ reference: `Condition/${reason.id ?? ''}` }],
    dosageInstruction: [{ sequence: 1, text: drug.dosage }],
  };
}

export function allergy(
  ctx: RecordContext,
  entry: AllergyEntry,
  recordedMs: number,
): AllergyIntolerance {
  const reaction = ctx.rng.pick(entry.reactions);
  const severe = reaction.code === '39579001';
  return {
    resourceType: 'AllergyIntolerance',
    id: ctx.rng.uuid(),
    clinicalStatus: coded(SYSTEM.allergyClinical, 'active', 'Active'),
    verificationStatus: coded(SYSTEM.allergyVerification, 'confirmed', 'Confirmed'),
    type: 'allergy',
    category: [entry.category],
    criticality: severe ? 'high' : 'low',
    code: concept(SYSTEM.snomed, entry),
    patient: ctx.patient,
    onsetDateTime: date(recordedMs),
    recordedDate: instant(recordedMs),
    recorder: ctx.practitioner,
    reaction: [
      { manifestation: [concept(SYSTEM.snomed, reaction)], severity: severe ? 'severe' : 'mild' },
    ],
  };
}

export function immunization(
  ctx: RecordContext,
  vaccine: Code,
  atMs: number,
  encounterRef?: Reference<Encounter>,
): Immunization {
  const out: Immunization = {
    resourceType: 'Immunization',
    id: ctx.rng.uuid(),
    status: 'completed',
    vaccineCode: concept(SYSTEM.cvx, vaccine),
    patient: ctx.patient,
    occurrenceDateTime: instant(atMs),
    primarySource: true,
    lotNumber: `${String.fromCharCode(65 + ctx.rng.int(0, 25))}${ctx.rng.digits(5)}`,
    performer: [{ actor: ctx.practitioner }],
  };
  if (encounterRef) out.encounter = encounterRef;
  return out;
}

export function procedure(
  ctx: RecordContext,
  code: Code,
  atMs: number,
  encounterRef: Reference<Encounter>,
  who: Reference<Practitioner>,
): Procedure {
  return {
    resourceType: 'Procedure',
    id: ctx.rng.uuid(),
    status: 'completed',
    code: concept(SYSTEM.snomed, code),
    subject: ctx.patient,
    encounter: encounterRef,
    performedPeriod: { start: instant(atMs), end: instant(atMs + ctx.rng.int(10, 45) * 60_000) },
    performer: [{ actor: who }],
  };
}
