import type {
  Condition,
  Encounter,
  Organization,
  Patient,
  Practitioner,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import {
  ALLERGIES,
  CONDITIONS,
  DRUGS,
  ENCOUNTER_KINDS,
  LAB_PANELS,
  PROCEDURES,
  VACCINES,
  type Code,
  type EncounterKind,
  type LabPanel,
  type Measure,
} from '../catalog.js';
import { Random } from '../prng.js';
import {
  allergy,
  condition,
  encounter,
  immunization,
  medicationRequest,
  procedure,
} from './clinical.js';
import { DAY_MS, YEAR_MS, yearsBetween } from './clock.js';
import { reference, type RecordContext } from './context.js';
import { labPanel, vitalSigns, type VitalBaseline } from './observations.js';
import { buildPatient } from './person.js';
import type { SharedResources } from './shared.js';

/** How far back a record's encounters go. */
const HISTORY_YEARS = 6;

function codeOf<T extends Code>(list: readonly T[], code: string): T {
  const found = list.find((c) => c.code === code);
  if (found === undefined) throw new Error(`catalog has no code ${code}`);
  return found;
}

function kindOf(code: string): EncounterKind {
  return codeOf(ENCOUNTER_KINDS, code);
}

function panel(code: string): LabPanel {
  return codeOf(LAB_PANELS, code);
}

interface Visit {
  readonly resource: Encounter;
  readonly ref: Reference<Encounter>;
  readonly atMs: number;
  readonly kind: EncounterKind;
  readonly who: Reference<Practitioner>;
}

/** Visit times: sorted, during opening hours, on distinct days. */
function visitTimes(rng: Random, count: number, fromMs: number, toMs: number): number[] {
  const days = new Set<number>();
  const span = Math.floor((toMs - fromMs) / DAY_MS);
  while (days.size < count) days.add(rng.int(0, span - 1));
  return [...days]
    .sort((a, b) => a - b)
    .map((d) => Math.floor(fromMs / DAY_MS) * DAY_MS + d * DAY_MS + rng.int(96, 204) * 5 * 60_000);
}

function patientRandom(seed: string, index: number): Random {
  return new Random(`${seed}/patient/${index}`);
}

/** The id of patient `index` (0-based) of the population generated from `seed`. */
export function patientIdOf(seed: string, index: number): string {
  return patientRandom(seed, index).uuid();
}

/**
 * One synthetic patient's whole record (Patient first), ~100–300 resources, every id drawn from a
 * generator seeded by `seed` and `index` alone: patient n is the same whatever the population size.
 */
export function generatePatientRecord(
  seed: string,
  index: number,
  shared: SharedResources,
  asOfMs: number,
): Resource[] {
  const rng = patientRandom(seed, index);
  const id = rng.uuid();
  const gender = rng.chance(0.5) ? 'female' : 'male';
  const age = rng.int(19, 92);
  const birthMs = Math.floor((asOfMs - age * YEAR_MS) / DAY_MS) * DAY_MS - rng.int(0, 364) * DAY_MS;
  const gp = rng.pick(shared.practitioners);
  const org = rng.pick(shared.organizations);
  const practitioners = shared.practitioners.map((p) =>
    reference<Practitioner>('Practitioner', p.id ?? ''),
  );
  const ctx: RecordContext = {
    rng,
    patientId: id,
    patient: reference<Patient>('Patient', id),
    asOfMs,
    birthMs,
    gender,
    practitioner: reference<Practitioner>('Practitioner', gp.id ?? ''),
    organization: reference<Organization>('Organization', org.id ?? ''),
    practitioners,
  };
  const patient = buildPatient(rng, {
    id,
    index,
    gender,
    birthMs,
    generalPractitioner: `Practitioner/${gp.id ?? ''}`,
    managingOrganization: `Organization/${org.id ?? ''}`,
  });

  const chronic = rng.sample(
    CONDITIONS.filter((c) => c.chronic),
    rng.int(1, age > 55 ? 4 : 2),
  );
  const acute = rng.sample(
    CONDITIONS.filter((c) => !c.chronic),
    rng.int(1, 3),
  );
  const has = (code: string): boolean => chronic.some((c) => c.code === code);

  const heightCm = rng.normal(gender === 'female' ? 163 : 176, 7, 1);
  const bmi = Math.min(42, Math.max(19, rng.normal(has('44054006') ? 31 : 26.5, 4, 1)));
  const base: VitalBaseline = {
    heightCm,
    weightKg: Math.round(bmi * (heightCm / 100) ** 2 * 10) / 10,
    systolic: has('38341003') ? rng.normal(142, 8) : rng.normal(118, 8),
    diastolic: has('38341003') ? rng.normal(89, 5) : rng.normal(76, 5),
    heartRate: has('49436004') ? rng.normal(88, 8) : rng.normal(72, 7),
  };

  const historyStart = Math.max(asOfMs - HISTORY_YEARS * YEAR_MS, birthMs + 18 * YEAR_MS);
  const times = visitTimes(rng, rng.int(12, 20), historyStart, asOfMs - DAY_MS);
  const visits: Visit[] = [];
  let lastCheckup = -Infinity;
  for (const atMs of times) {
    const dueCheckup = atMs - lastCheckup > 0.9 * YEAR_MS;
    const kind = dueCheckup
      ? kindOf('185349003')
      : rng.chance(0.08)
        ? kindOf('50849002')
        : rng.pick([kindOf('390906007'), kindOf('185345009')]);
    if (dueCheckup) lastCheckup = atMs;
    const who = kind.classCode === 'EMER' ? rng.pick(practitioners) : ctx.practitioner;
    const resource = encounter(ctx, kind, atMs, who);
    visits.push({
      resource,
      ref: reference<Encounter>('Encounter', resource.id ?? ''),
      atMs,
      kind,
      who,
    });
  }
  const first = visits[0];
  if (first === undefined) throw new Error('a record needs at least one visit');

  const conditions: Condition[] = [];
  const meds: Resource[] = [];
  for (const entry of chronic) {
    const diagnosedAtVisit = rng.chance(0.4) ? rng.pick(visits) : undefined;
    const onsetMs = diagnosedAtVisit?.atMs ?? first.atMs - rng.int(60, 2000) * DAY_MS;
    const c = condition(
      ctx,
      entry,
      Math.max(onsetMs, birthMs + 16 * YEAR_MS),
      diagnosedAtVisit?.ref,
    );
    conditions.push(c);
    for (const code of rng.sample(entry.drugs, rng.int(1, 2))) {
      meds.push(
        medicationRequest(ctx, codeOf(DRUGS, code), c, Math.max(onsetMs, historyStart), true),
      );
    }
  }
  const sickVisits = visits.filter((v) => v.kind.code !== '185349003');
  for (const entry of acute) {
    const visit = sickVisits.length > 0 ? rng.pick(sickVisits) : rng.pick(visits);
    const c = condition(ctx, entry, visit.atMs, visit.ref);
    conditions.push(c);
    const drug = entry.drugs[0];
    if (drug !== undefined)
      meds.push(medicationRequest(ctx, codeOf(DRUGS, drug), c, visit.atMs, false));
  }

  const allergies = rng
    .sample(ALLERGIES, rng.chance(0.6) ? rng.int(1, 2) : 0)
    .map((a) => allergy(ctx, a, first.atMs));

  const shift = (m: Measure): number =>
    (m.code === '4548-4' && has('44054006') ? 2.1 : 0) +
    (m.code === '2345-7' && has('44054006') ? 45 : 0) +
    (m.code === '3016-3' && has('40930008') ? 3.2 : 0) +
    (m.code === '18262-6' && has('55822004') ? 45 : 0) +
    (m.code === '2093-3' && has('55822004') ? 55 : 0);
  const observations: Resource[] = [];
  const procedures: Resource[] = [];
  for (const v of visits) {
    const at = { encounter: v.ref, atMs: v.atMs, performer: v.who };
    observations.push(...vitalSigns(ctx, at, base));
    const panels: LabPanel[] = [];
    if (v.kind.code === '185349003') {
      panels.push(panel('51990-0'), panel('58410-2'));
      if (age > 40 || has('55822004')) panels.push(panel('57698-3'));
    } else if (rng.chance(0.3)) {
      panels.push(rng.pick(LAB_PANELS));
    }
    if (has('44054006') && v.kind.code === '390906007') panels.push(panel('4548-4'));
    if (has('40930008') && v.kind.code === '185349003') panels.push(panel('3016-3'));
    for (const p of new Set(panels))
      observations.push(...labPanel(ctx, { ...at, atMs: v.atMs + 20 * 60_000 }, p, shift));
    if (rng.chance(0.35))
      procedures.push(procedure(ctx, codeOf(PROCEDURES, '430193006'), v.atMs, v.ref, v.who));
    if (v.kind.code === '185349003' && rng.chance(0.5)) {
      procedures.push(procedure(ctx, codeOf(PROCEDURES, '171207006'), v.atMs, v.ref, v.who));
    }
  }
  const checkups = visits.filter((v) => v.kind.code === '185349003');
  const anyCheckup = checkups[0] ?? first;
  if (has('49436004') || has('38341003'))
    procedures.push(
      procedure(
        ctx,
        codeOf(PROCEDURES, '29303009'),
        anyCheckup.atMs,
        anyCheckup.ref,
        anyCheckup.who,
      ),
    );
  if (has('195967001') || has('13645005'))
    procedures.push(
      procedure(
        ctx,
        codeOf(PROCEDURES, '127783003'),
        anyCheckup.atMs,
        anyCheckup.ref,
        anyCheckup.who,
      ),
    );
  if (age > 50 && rng.chance(0.6)) {
    const v = rng.pick(visits);
    procedures.push(procedure(ctx, codeOf(PROCEDURES, '73761001'), v.atMs, v.ref, v.who));
  }
  if (gender === 'female' && age > 40) {
    for (const v of checkups)
      procedures.push(procedure(ctx, codeOf(PROCEDURES, '24623002'), v.atMs, v.ref, v.who));
  }

  const immunizations: Resource[] = [];
  const vaccine = (code: string): Code => codeOf(VACCINES, code);
  for (const v of checkups) {
    if (rng.chance(0.75)) immunizations.push(immunization(ctx, vaccine('140'), v.atMs, v.ref));
  }
  const covid = rng.int(0, 3);
  for (let i = 0; i < covid; i++) {
    const atMs = historyStart + (i * 9 + rng.int(1, 4)) * 30 * DAY_MS;
    immunizations.push(immunization(ctx, vaccine('208'), Math.min(atMs, asOfMs - DAY_MS)));
  }
  if (rng.chance(0.7)) immunizations.push(immunization(ctx, vaccine('115'), first.atMs, first.ref));
  if (age >= 65) {
    immunizations.push(immunization(ctx, vaccine('133'), anyCheckup.atMs, anyCheckup.ref));
    immunizations.push(
      immunization(ctx, vaccine('33'), Math.min(anyCheckup.atMs + YEAR_MS, asOfMs - DAY_MS)),
    );
  }
  if (age >= 50 && rng.chance(0.5))
    immunizations.push(immunization(ctx, vaccine('187'), anyCheckup.atMs, anyCheckup.ref));
  if (yearsBetween(birthMs, historyStart) < 27 && rng.chance(0.5))
    immunizations.push(immunization(ctx, vaccine('62'), first.atMs, first.ref));

  return [
    patient,
    ...allergies,
    ...conditions,
    ...meds,
    ...visits.map((v) => v.resource),
    ...observations,
    ...procedures,
    ...immunizations,
  ];
}
