import assert from 'node:assert/strict';
import { createRegistry } from '../../../store/search/definitions/registry.js';
import { contextFor } from '../../../store/search/context.js';
import { extractRows } from '../../../store/search/indexing/index-resource.js';
import { INDEX_TABLES } from '../../../store/search/schema.js';
import { describeOnEngines } from '../../support/engines.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/**
 * A composite on the resource itself (`Observation.code-value-quantity`, `code-value-concept`)
 * has one tuple per resource, made of what `code` and `value-quantity` (or `value-concept`)
 * select: it writes no rows of its own, and search tests the resource's rows of those parameters.
 * Every search below answers as it did when the composite wrote its own rows.
 */

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const cc = (...codes: [string, string][]) => ({
  coding: codes.map(([system, code]) => ({ system, code })),
});
const qty = (value: number, unit = 'mg/dL') => ({ value, unit, system: UCUM, code: unit });

const fixtures: Res[] = [
  { resourceType: 'Patient', id: 'p1' },
  { resourceType: 'Patient', id: 'p2' },
  {
    // two codings, one quantity: the tuple pairs the quantity with either coding
    resourceType: 'Observation',
    id: 'o-qty',
    status: 'final',
    subject: { reference: 'Patient/p1' },
    code: cc([LOINC, '2345-7'], [SCT, '166900001']),
    valueQuantity: qty(120),
  },
  {
    // the same code with another value, for another patient
    resourceType: 'Observation',
    id: 'o-qty2',
    status: 'final',
    subject: { reference: 'Patient/p2' },
    code: cc([LOINC, '2345-7']),
    valueQuantity: qty(2, 'g/L'),
  },
  {
    resourceType: 'Observation',
    id: 'o-cc',
    status: 'final',
    subject: { reference: 'Patient/p2' },
    code: { ...cc([LOINC, '2222-2']), text: 'Finding' },
    valueCodeableConcept: cc([SCT, '10828004']),
  },
  {
    // a code that is text alone: a composite has no value here (nothing a value could match)
    resourceType: 'Observation',
    id: 'o-textonly',
    status: 'final',
    code: { text: 'free text' },
    valueQuantity: qty(7),
  },
  {
    // a coding with a system only
    resourceType: 'Observation',
    id: 'o-sysonly',
    status: 'final',
    code: { coding: [{ system: LOINC }] },
    valueQuantity: qty(9),
  },
  { resourceType: 'Observation', id: 'o-noval', status: 'final', code: cc([LOINC, '2345-7']) },
  { resourceType: 'Observation', id: 'o-nocode', status: 'final', valueQuantity: qty(120) },
  {
    // value-quantity's SampledData branch: no quantity, so no code-value-quantity tuple
    resourceType: 'Observation',
    id: 'o-sampled',
    status: 'final',
    code: cc([LOINC, '2345-7']),
    valueSampledData: { origin: { value: 120 }, period: 10, dimensions: 1, data: '120 121' },
  },
  {
    // a component's code and value never pair with the Observation's own
    resourceType: 'Observation',
    id: 'o-comp',
    status: 'final',
    code: cc([LOINC, '85354-9']),
    component: [{ code: cc([LOINC, '8480-6']), valueQuantity: qty(130, 'mm[Hg]') }],
  },
  {
    resourceType: 'DiagnosticReport',
    id: 'dr1',
    status: 'final',
    code: cc([LOINC, '9999-9']),
    result: [{ reference: 'Observation/o-qty' }],
  },
];

const OBS = [
  'o-cc',
  'o-comp',
  'o-nocode',
  'o-noval',
  'o-qty',
  'o-qty2',
  'o-sampled',
  'o-sysonly',
  'o-textonly',
];
const except = (...ids: string[]) => OBS.filter((id) => !ids.includes(id));

const cases: [string, string[]][] = [
  [`Observation?code-value-quantity=${LOINC}|2345-7$120`, ['o-qty']],
  [`Observation?code-value-quantity=${SCT}|166900001$gt100`, ['o-qty']],
  [`Observation?code-value-quantity=2345-7$gt1`, ['o-qty', 'o-qty2']],
  [`Observation?code-value-quantity=2345-7$lt100`, ['o-qty2']],
  [`Observation?code-value-quantity=2345-7$120|${UCUM}|mg/dL`, ['o-qty']],
  [`Observation?code-value-quantity=2345-7$120|${UCUM}|g/L`, []],
  // UCUM canonical units: 2 g/L is 200 mg/dL
  [`Observation?code-value-quantity=2345-7$200|${UCUM}|mg/dL`, ['o-qty2']],
  [`Observation?code-value-quantity=${LOINC}|$9`, ['o-sysonly']],
  [`Observation?code-value-quantity=${LOINC}|$gt0`, ['o-qty', 'o-qty2', 'o-sysonly']],
  [`Observation?code-value-quantity=${LOINC}|8480-6$130`, []],
  [`Observation?code-value-quantity=${LOINC}|85354-9$130`, []],
  ['Observation?code-value-quantity=free text$7', []],
  [`Observation?code-value-quantity=2345-7$120,2345-7$2`, ['o-qty', 'o-qty2']],
  [`Observation?code-value-quantity=2345-7$gt1&code-value-quantity=${SCT}|$gt1`, ['o-qty']],
  [`Observation?code-value-concept=${LOINC}|2222-2$${SCT}|10828004`, ['o-cc']],
  [`Observation?code-value-concept=2222-2$10828004`, ['o-cc']],
  [`Observation?code-value-concept=2345-7$10828004`, []],
  [`Observation?combo-code-value-quantity=${LOINC}|2345-7$120`, ['o-qty']],
  [`Observation?combo-code-value-quantity=${LOINC}|8480-6$130`, ['o-comp']],
  [`Observation?combo-code-value-quantity=${LOINC}|85354-9$130`, []],
  [`Observation?combo-code-value-concept=2222-2$10828004`, ['o-cc']],
  // :missing asks whether the resource has a whole tuple (a coded code and a value)
  ['Observation?code-value-quantity:missing=false', ['o-qty', 'o-qty2', 'o-sysonly']],
  ['Observation?code-value-quantity:missing=true', except('o-qty', 'o-qty2', 'o-sysonly')],
  ['Observation?code-value-concept:missing=false', ['o-cc']],
  ['Observation?code-value-concept:missing=true', except('o-cc')],
  [
    'Observation?combo-code-value-quantity:missing=false',
    ['o-comp', 'o-qty', 'o-qty2', 'o-sysonly'],
  ],
  ['Observation?combo-code-value-concept:missing=true', except('o-cc')],
  // through _has and chains
  [`Patient?_has:Observation:patient:code-value-quantity=2345-7$gt100`, ['p1']],
  [`Patient?_has:Observation:patient:code-value-quantity=2345-7$gt1`, ['p1', 'p2']],
  [`Patient?_has:Observation:subject:code-value-concept=2222-2$10828004`, ['p2']],
  [`DiagnosticReport?result.code-value-quantity=2345-7$120`, ['dr1']],
  [`DiagnosticReport?result.code-value-quantity=2345-7$2`, []],
  // with other clauses on the same resource
  [`Observation?code-value-quantity=2345-7$gt1&patient=p2`, ['o-qty2']],
  [`Observation?code-value-quantity=2345-7$gt1&_id=o-qty,o-cc`, ['o-qty']],
];

describeOnEngines(
  'store/search composites on the resource read their components’ rows',
  (engine) => {
    const store = storeWith(engine, fixtures);
    itMatches(store, cases);

    it('writes no rows under their keys, only the components’ parameters’ rows', async () => {
      for (const table of INDEX_TABLES.filter((t) => t.startsWith('sp_'))) {
        const row = await store().engine.get<{ n: number | string }>(
          `SELECT COUNT(*) AS n FROM ${table}
          WHERE sp LIKE 'Observation.code-value-quantity#%' OR sp LIKE 'Observation.code-value-concept#%'`,
        );
        assert.equal(Number(row?.n), 0, table);
      }
      // a composite on a repeating element keeps its own rows (grp pairs a component's parts)
      const comp = await store().engine.get<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM sp_token WHERE sp = 'Observation.component-code-value-quantity#0'",
      );
      assert.equal(Number(comp?.n), 1);
    });
  },
);

describe('store/search composites that read their components’ rows', () => {
  it('are exactly Observation’s code-value-quantity and code-value-concept', () => {
    const registry = createRegistry();
    const found: string[] = [];
    for (const type of ['Observation', 'Group', 'DocumentReference', 'Questionnaire', 'Patient'])
      for (const p of registry.list(type))
        if (p.componentRows !== undefined)
          found.push(`${p.key} = ${p.componentRows.map((q) => q.code).join(' + ')}`);
    assert.deepEqual(found.sort(), [
      'Observation.code-value-concept = code + value-concept',
      'Observation.code-value-quantity = code + value-quantity',
    ]);
    // the union over both kinds reads its members, each as it is searched on its own
    const combo = registry.get('Observation', 'combo-code-value-quantity');
    assert.deepEqual(
      combo?.union?.map((m) => [m.code, m.componentRows?.map((q) => q.code) ?? null]),
      [
        ['code-value-quantity', ['code', 'value-quantity']],
        ['component-code-value-quantity', null],
      ],
    );
  });

  it('value-quantity writes no row for a SampledData (why its branch on it does not count)', () => {
    const ctx = contextFor('root-composite-sampled', []);
    const { rows } = extractRows(ctx, {
      resourceType: 'Observation',
      id: 's',
      status: 'final',
      code: cc([LOINC, '2345-7']),
      valueSampledData: {
        origin: { value: 120, system: UCUM, code: 'mg/dL' },
        period: 10,
        dimensions: 1,
        lowerLimit: 1,
        upperLimit: 200,
        data: '120 121',
      },
    });
    assert.deepEqual(
      rows.quantity.filter((q) => q.sp === 'Observation.value-quantity'),
      [],
    );
  });

  it('write their own rows again once a custom parameter replaces a component’s source', () => {
    const custom = {
      resourceType: 'SearchParameter' as const,
      url: 'http://example.org/SearchParameter/observation-code-root',
      code: 'code',
      base: ['Observation'],
      type: 'token',
      status: 'active',
      expression: 'Observation.code.coding',
    };
    const ctx = contextFor('root-composite-custom-code', [custom]);
    assert.equal(ctx.registry.get('Observation', 'code-value-quantity')?.componentRows, undefined);
    const { rows } = extractRows(ctx, {
      resourceType: 'Observation',
      id: 'x',
      code: cc([LOINC, '2345-7']),
      valueQuantity: qty(120),
    });
    assert.deepEqual(
      rows.token.filter((t) => t.sp === 'Observation.code-value-quantity#0').map((t) => t.code),
      ['2345-7'],
    );
    assert.deepEqual(
      rows.quantity.filter((q) => q.sp === 'Observation.code-value-quantity#1').map((q) => q.lo),
      [120],
    );
  });
});
