import type {
  CodeableConcept,
  Encounter,
  Observation,
  ObservationReferenceRange,
  Practitioner,
  Quantity,
  Reference,
} from '@medplum/fhirtypes';
import { BP_PANEL, UNIT_DISPLAY, VITALS, type LabPanel, type Measure } from '../catalog.js';
import { SYSTEM } from '../code-systems.js';
import { round } from '../prng.js';
import { instant } from './clock.js';
import type { RecordContext } from './context.js';

/** Baselines that make one patient's vital signs a believable series rather than noise. */
export interface VitalBaseline {
  readonly heightCm: number;
  readonly weightKg: number;
  readonly systolic: number;
  readonly diastolic: number;
  readonly heartRate: number;
}

const VITAL_SIGNS: CodeableConcept = {
  coding: [{ system: SYSTEM.observationCategory, code: 'vital-signs', display: 'Vital Signs' }],
  text: 'Vital Signs',
};

const LABORATORY: CodeableConcept = {
  coding: [{ system: SYSTEM.observationCategory, code: 'laboratory', display: 'Laboratory' }],
  text: 'Laboratory',
};

function loinc(code: string, display: string, text = display): CodeableConcept {
  return { coding: [{ system: SYSTEM.loinc, code, display }], text };
}

function quantity(value: number, unit: string): Quantity {
  return { value, unit: UNIT_DISPLAY[unit] ?? unit, system: SYSTEM.ucum, code: unit };
}

interface Occasion {
  readonly encounter: Reference<Encounter>;
  readonly atMs: number;
  readonly performer: Reference<Practitioner>;
}

function observation(
  ctx: RecordContext,
  at: Occasion,
  category: CodeableConcept,
  code: CodeableConcept,
): Observation {
  return {
    resourceType: 'Observation',
    id: ctx.rng.uuid(),
    status: 'final',
    category: [category],
    code,
    subject: ctx.patient,
    encounter: at.encounter,
    effectiveDateTime: instant(at.atMs),
    issued: instant(at.atMs + 15 * 60_000),
    performer: [at.performer],
  };
}

function vital(ctx: RecordContext, at: Occasion, m: Measure, value: number): Observation {
  return {
    ...observation(ctx, at, VITAL_SIGNS, loinc(m.code, m.display)),
    valueQuantity: quantity(value, m.unit),
  };
}

/** Heart rate, temperature, weight, height, BMI and a blood-pressure panel with components. */
export function vitalSigns(ctx: RecordContext, at: Occasion, base: VitalBaseline): Observation[] {
  const { rng } = ctx;
  const weight = round(base.weightKg + rng.normal(0, 1.2, 1), 1);
  const height = base.heightCm;
  const bmi = round(weight / (height / 100) ** 2, 1);
  const systolic = Math.round(base.systolic + rng.normal(0, 6));
  const diastolic = Math.round(Math.min(base.diastolic + rng.normal(0, 4), systolic - 25));
  const bp: Observation = {
    ...observation(ctx, at, VITAL_SIGNS, loinc(BP_PANEL.code, BP_PANEL.display)),
    component: [
      {
        code: loinc(VITALS.systolic.code, VITALS.systolic.display),
        valueQuantity: quantity(systolic, 'mm[Hg]'),
      },
      {
        code: loinc(VITALS.diastolic.code, VITALS.diastolic.display),
        valueQuantity: quantity(diastolic, 'mm[Hg]'),
      },
    ],
  };
  return [
    vital(ctx, at, VITALS.heartRate, Math.round(base.heartRate + rng.normal(0, 5))),
    bp,
    vital(
      ctx,
      at,
      VITALS.temperature,
      rng.normal(VITALS.temperature.mean, VITALS.temperature.sd, 1),
    ),
    vital(ctx, at, VITALS.weight, weight),
    vital(ctx, at, VITALS.height, height),
    vital(ctx, at, VITALS.bmi, bmi),
  ];
}

function interpretation(value: number, m: Measure): CodeableConcept {
  const [code, display] =
    m.low !== undefined && value < m.low
      ? ['L', 'Low']
      : m.high !== undefined && value > m.high
        ? ['H', 'High']
        : ['N', 'Normal'];
  return { coding: [{ system: SYSTEM.interpretation, code, display }] };
}

function referenceRange(m: Measure): ObservationReferenceRange[] {
  if (m.low === undefined && m.high === undefined) return [];
  const range: ObservationReferenceRange = {};
  if (m.low !== undefined) range.low = quantity(m.low, m.unit);
  if (m.high !== undefined) range.high = quantity(m.high, m.unit);
  return [range];
}

/** One laboratory Observation per test of the panel; `shift` moves the mean (e.g. diabetic A1c). */
export function labPanel(
  ctx: RecordContext,
  at: Occasion,
  panel: LabPanel,
  shift: (m: Measure) => number,
): Observation[] {
  return panel.tests.map((m) => {
    const value = Math.max(
      round(m.sd / 10, m.decimals),
      ctx.rng.normal(m.mean + shift(m), m.sd, m.decimals),
    );
    const obs: Observation = {
      ...observation(ctx, at, LABORATORY, loinc(m.code, m.display, m.text)),
      valueQuantity: quantity(value, m.unit),
      interpretation: [interpretation(value, m)],
    };
    const range = referenceRange(m);
    if (range.length > 0) obs.referenceRange = range;
    return obs;
  });
}
