import assert from 'node:assert/strict';
import { demoBundles } from '../../../demo/index.js';
import { contextFor } from '../../../store/search/context.js';
import type { Extracted } from '../../../store/search/indexing/compile-expression.js';
import {
  compileComposite,
  compositeViaFhirPath,
  type CompositeValues,
} from '../../../store/search/indexing/compile-composite.js';

/** Each tuple's component values as [FHIR type, value] (decimals as fhirpath.js wraps them, as numbers). */
const shape = (tuples: CompositeValues): string =>
  JSON.stringify(
    tuples.map((t) => t.map((values) => values.map((v: Extracted) => [v.type, v.value]))),
    (_k, v: unknown) =>
      typeof v === 'object' && v !== null && 'asStr' in v
        ? Number((v as { asStr: string }).asStr)
        : v,
  );

const bp = (a: number, b: number) => [
  {
    code: { coding: [{ system: 'http://loinc.org', code: '8480-6' }] },
    valueQuantity: {
      value: a,
      unit: 'mm[Hg]',
      system: 'http://unitsofmeasure.org',
      code: 'mm[Hg]',
    },
  },
  {
    code: { coding: [{ system: 'http://loinc.org', code: '8462-4' }] },
    valueQuantity: {
      value: b,
      unit: 'mm[Hg]',
      system: 'http://unitsofmeasure.org',
      code: 'mm[Hg]',
    },
  },
];

/** Resources whose tuples a careless walk would get wrong (duplicates a union removes, two value[x]). */
const TRICKY: Record<string, unknown>[] = [
  { resourceType: 'Observation', status: 'final', code: { text: 'bp' }, component: bp(120, 80) },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'bp' },
    component: [...bp(1, 1), ...bp(1, 1)],
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'same' },
    component: [{ code: { text: 'same' } }],
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { text: 'c' },
    valueDateTime: '2020-01-01',
    valuePeriod: { start: '2019' },
  },
  {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ code: 'a' }, { code: 'b' }] },
    valueQuantity: { value: 1.5 },
    component: [{ code: { text: 'x' }, valueCodeableConcept: { text: 'y' } }],
  },
  { resourceType: 'Observation', status: 'final', code: { text: 'nothing' }, component: [{}] },
  { resourceType: 'Observation', status: 'final', code: { text: 's' }, valueString: 'hello' },
  { resourceType: 'Observation', code: {} },
  { resourceType: 'Patient', id: 'p' },
];

describe('search: composite parameters walked directly', () => {
  it('give exactly the tuples fhirpath.js gives, on generated data and tricky cases', () => {
    const resources: Record<string, unknown>[] = [...TRICKY];
    for (const b of demoBundles({ patients: 3 }))
      for (const e of b.entry ?? [])
        resources.push(e.resource as unknown as Record<string, unknown>);
    const registry = contextFor('', []).registry;
    let compared = 0;
    let tuples = 0;
    for (const r of resources) {
      for (const p of registry.list(String(r.resourceType))) {
        if (p.type !== 'composite' || p.expression === undefined) continue;
        const components = p.components.map((c) => c.expression);
        const mine = compileComposite(p.expression, components)(r);
        const theirs = compositeViaFhirPath(p.expression, components)(r);
        assert.equal(shape(mine), shape(theirs), `${p.key} on ${JSON.stringify(r).slice(0, 120)}`);
        compared++;
        tuples += theirs.length;
      }
    }
    assert.ok(compared > 500 && tuples > 500, `compared ${compared}, tuples ${tuples}`);
  });
});
