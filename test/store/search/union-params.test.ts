import assert from 'node:assert/strict';
import { createRegistry } from '../../../store/search/definitions/registry.js';
import { contextFor } from '../../../store/search/context.js';
import { extractRows } from '../../../store/search/indexing/index-resource.js';
import { INDEX_TABLES } from '../../../store/search/schema.js';
import { describeOnEngines } from '../../support/engines.js';
import { ids } from './support/run-search.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/**
 * A parameter whose expression is the union of other parameters' (Observation's `combo-*`) has
 * no index rows of its own: search reads its members' rows. Every kind of search on it answers
 * as the union of its members would.
 */

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const cc = (system: string, code: string, text?: string) => ({
  coding: [{ system, code }],
  ...(text === undefined ? {} : { text }),
});
const qty = (value: number) => ({ value, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' });

const fixtures: Res[] = [
  { resourceType: 'Patient', id: 'p1' },
  { resourceType: 'Patient', id: 'p2' },
  {
    // a code of its own with a quantity, and a component with another code and quantity
    resourceType: 'Observation',
    id: 'o-both',
    status: 'final',
    subject: { reference: 'Patient/p1' },
    code: cc(LOINC, '1000-1', 'Panel'),
    valueQuantity: qty(10),
    component: [{ code: cc(LOINC, '2000-2', 'Systolic'), valueQuantity: qty(20) }],
  },
  {
    resourceType: 'Observation',
    id: 'o-root',
    status: 'final',
    subject: { reference: 'Patient/p2' },
    code: cc(LOINC, '3000-3'),
    valueCodeableConcept: cc(SCT, '111'),
  },
  {
    // components only: no code of its own (code is required in R4, but search must not care)
    resourceType: 'Observation',
    id: 'o-comp',
    status: 'final',
    component: [
      { code: cc(LOINC, '4000-4'), valueCodeableConcept: cc(SCT, '222') },
      { code: cc(LOINC, '5000-5'), dataAbsentReason: cc(SCT, 'unknown') },
    ],
  },
  { resourceType: 'Observation', id: 'o-none', status: 'final' },
  {
    resourceType: 'DiagnosticReport',
    id: 'dr1',
    status: 'final',
    code: cc(LOINC, '9999-9'),
    result: [{ reference: 'Observation/o-comp' }],
  },
];

const cases: [string, string[]][] = [
  ['Observation?combo-code=1000-1', ['o-both']],
  ['Observation?combo-code=2000-2', ['o-both']],
  [`Observation?combo-code=${LOINC}|4000-4`, ['o-comp']],
  ['Observation?combo-code=3000-3,5000-5', ['o-comp', 'o-root']],
  [`Observation?combo-code=${LOINC}|`, ['o-both', 'o-comp', 'o-root']],
  ['Observation?combo-code:text=systolic', ['o-both']],
  ['Observation?combo-code:not=2000-2', ['o-comp', 'o-none', 'o-root']],
  ['Observation?combo-code:missing=true', ['o-none']],
  ['Observation?combo-code:missing=false', ['o-both', 'o-comp', 'o-root']],
  ['Observation?combo-code=2000-2&combo-code=1000-1', ['o-both']],
  ['Observation?combo-value-concept=111', ['o-root']],
  ['Observation?combo-value-concept=222', ['o-comp']],
  ['Observation?combo-data-absent-reason=unknown', ['o-comp']],
  ['Observation?combo-value-quantity=gt15', ['o-both']],
  ['Observation?combo-value-quantity=lt15', ['o-both']],
  ['Observation?combo-value-quantity=gt25', []],
  // a tuple is one member's: the code of the Observation never pairs with a component's value
  [`Observation?combo-code-value-quantity=${LOINC}|1000-1$10`, ['o-both']],
  [`Observation?combo-code-value-quantity=${LOINC}|2000-2$20`, ['o-both']],
  [`Observation?combo-code-value-quantity=${LOINC}|1000-1$20`, []],
  [`Observation?combo-code-value-quantity=${LOINC}|2000-2$10`, []],
  [`Observation?combo-code-value-concept=3000-3$111`, ['o-root']],
  [`Observation?combo-code-value-concept=4000-4$${SCT}|222`, ['o-comp']],
  [`Observation?combo-code-value-concept=4000-4$111`, []],
  ['Observation?combo-code-value-quantity:missing=false', ['o-both']],
  ['Observation?combo-code-value-concept:missing=true', ['o-both', 'o-none']],
  ['Patient?_has:Observation:patient:combo-code=2000-2', ['p1']],
  ['Patient?_has:Observation:subject:combo-code=3000-3', ['p2']],
  [`Patient?_has:Observation:patient:combo-code-value-quantity=${LOINC}|2000-2$20`, ['p1']],
  ['DiagnosticReport?result.combo-code=4000-4', ['dr1']],
  ['DiagnosticReport?result.combo-code=1000-1', []],
  [`DiagnosticReport?result.combo-code-value-concept=4000-4$222`, ['dr1']],
];

describeOnEngines('store/search union parameters (combo-*)', (engine) => {
  const store = storeWith(engine, fixtures);
  itMatches(store, cases);

  it('sorts by a union the way its members would (lowest code first, highest with -)', async () => {
    assert.deepEqual(await ids(store(), 'Observation?_sort=combo-code', {}, true), [
      'o-both',
      'o-root',
      'o-comp',
      'o-none',
    ]);
    assert.deepEqual(await ids(store(), 'Observation?_sort=-combo-code', {}, true), [
      'o-comp',
      'o-root',
      'o-both',
      'o-none',
    ]);
  });

  it('writes no rows under a union key, and the members’ rows', async () => {
    for (const table of INDEX_TABLES.filter((t) => t.startsWith('sp_'))) {
      const row = await store().engine.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${table} WHERE sp LIKE 'Observation.combo-%'`,
      );
      assert.equal(Number(row?.n), 0, table);
    }
    const members = await store().engine.all<{ sp: string }>(
      "SELECT DISTINCT sp FROM sp_token WHERE sp IN ('Observation.code', 'Observation.component-code') ORDER BY sp",
    );
    assert.deepEqual(
      members.map((m) => m.sp),
      ['Observation.code', 'Observation.component-code'],
    );
  });
});

describe('store/search union detection', () => {
  it('finds exactly the R4 combo-* parameters, each with its members', () => {
    const registry = createRegistry();
    const found = registry
      .list('Observation')
      .filter((p) => p.union !== undefined)
      .map((p) => `${p.code} = ${(p.union ?? []).map((m) => m.code).join(' + ')}`)
      .sort();
    assert.deepEqual(found, [
      'combo-code = code + component-code',
      'combo-code-value-concept = code-value-concept + component-code-value-concept',
      'combo-code-value-quantity = code-value-quantity + component-code-value-quantity',
      'combo-data-absent-reason = component-data-absent-reason + data-absent-reason',
      'combo-value-concept = component-value-concept + value-concept',
      'combo-value-quantity = component-value-quantity + value-quantity',
    ]);
    // no other type has one (a union must repeat its members' branches exactly)
    for (const type of ['Patient', 'Encounter', 'Condition', 'MedicationRequest', 'Procedure'])
      assert.deepEqual(
        registry
          .list(type)
          .filter((p) => p.union !== undefined)
          .map((p) => p.code),
        [],
        type,
      );
  });

  it('keeps a union’s own rows once a custom parameter replaces one of its members', () => {
    const custom = {
      resourceType: 'SearchParameter' as const,
      url: 'http://example.org/SearchParameter/observation-code',
      code: 'code',
      base: ['Observation'],
      type: 'token',
      status: 'active',
      expression: 'Observation.code.coding',
    };
    const ctx = contextFor('union-test-custom-code', [custom]);
    assert.equal(ctx.registry.get('Observation', 'combo-code')?.union, undefined);
    assert.notEqual(ctx.registry.get('Observation', 'combo-value-concept')?.union, undefined);
    const { rows } = extractRows(ctx, {
      resourceType: 'Observation',
      id: 'x',
      code: cc(LOINC, '1000-1'),
      component: [{ code: cc(LOINC, '2000-2') }],
    });
    const combo = rows.token
      .filter((t) => t.sp === 'Observation.combo-code')
      .map((t) => t.code)
      .sort();
    assert.deepEqual(combo, ['1000-1', '2000-2']);
  });
});
