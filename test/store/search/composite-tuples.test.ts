import assert from 'node:assert/strict';
import { describeOnEngines } from '../../support/engines.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/**
 * Composite parameters keep only complete tuples in the index (every component with rows): a
 * composite's value in a resource is a tuple, so composite searches answer as when every tuple's
 * rows were written, and `:missing=false` finds the resources with a complete tuple.
 */

const LOINC = 'http://loinc.org';
const SCT = 'http://snomed.info/sct';
const UCUM = 'http://unitsofmeasure.org';
const code = (...codes: [string, string][]) => ({
  coding: codes.map(([system, c]) => ({ system, code: c })),
});

const fixtures: Res[] = [
  {
    resourceType: 'Observation',
    id: 'o-qty',
    status: 'final',
    code: code([LOINC, '2345-7'], [SCT, '166900001']),
    valueQuantity: { value: 120, unit: 'mg/dL', system: UCUM, code: 'mg/dL' },
  },
  {
    resourceType: 'Observation',
    id: 'o-str',
    status: 'final',
    code: code([LOINC, '1111-1']),
    valueString: 'positive',
  },
  {
    resourceType: 'Observation',
    id: 'o-cc',
    status: 'final',
    code: code([LOINC, '2222-2'], [SCT, '3333']),
    valueCodeableConcept: code([SCT, '10828004']),
  },
  {
    resourceType: 'Observation',
    id: 'o-nocode',
    status: 'final',
    valueQuantity: { value: 5, unit: 'mg', system: UCUM, code: 'mg' },
  },
  {
    resourceType: 'Observation',
    id: 'o-comp',
    status: 'final',
    code: code([LOINC, '85354-9']),
    component: [
      {
        code: code([LOINC, '8480-6']),
        valueQuantity: { value: 130, unit: 'mm[Hg]', system: UCUM, code: 'mm[Hg]' },
      },
      { code: code([LOINC, '8462-4']) },
    ],
  },
  {
    // a code with text as well as a coding (Synthea's Observations): the text is searchable with
    // code:text, never through a composite
    resourceType: 'Observation',
    id: 'o-text',
    status: 'final',
    code: { coding: [{ system: LOINC, code: '1920-8' }], text: 'AST' },
    valueQuantity: { value: 24, unit: 'U/L', system: UCUM, code: 'U/L' },
  },
  {
    // a code that is text alone: no composite can match it, so no composite holds a value
    resourceType: 'Observation',
    id: 'o-textonly',
    status: 'final',
    code: { text: 'free text' },
    valueQuantity: { value: 7, unit: 'U/L', system: UCUM, code: 'U/L' },
  },
];

const ALL = ['o-cc', 'o-comp', 'o-nocode', 'o-qty', 'o-str', 'o-text', 'o-textonly'];
const except = (...ids: string[]) => ALL.filter((id) => !ids.includes(id));

const cases: [string, string[]][] = [
  [`Observation?code-value-quantity=${LOINC}|2345-7$gt100`, ['o-qty']],
  [`Observation?code-value-quantity=${SCT}|166900001$gt100`, ['o-qty']],
  [`Observation?code-value-quantity=${LOINC}|2345-7$lt100`, []],
  [`Observation?code-value-string=${LOINC}|1111-1$positive`, ['o-str']],
  [`Observation?code-value-string=${LOINC}|2345-7$positive`, []],
  [`Observation?code-value-concept=${LOINC}|2222-2$${SCT}|10828004`, ['o-cc']],
  [`Observation?code-value-concept=${SCT}|3333$10828004`, ['o-cc']],
  [`Observation?code-value-concept=${LOINC}|2345-7$10828004`, []],
  [`Observation?code-value-date=${LOINC}|2345-7$ge2000-01-01`, []],
  [`Observation?component-code-value-quantity=${LOINC}|8480-6$130`, ['o-comp']],
  [`Observation?component-code-value-quantity=${LOINC}|8462-4$130`, []],
  [`Observation?combo-code-value-quantity=${LOINC}|8480-6$130`, ['o-comp']],
  [`Observation?combo-code-value-quantity=${LOINC}|2345-7$120`, ['o-qty']],
  [`Observation?combo-code-value-concept=${LOINC}|2222-2$10828004`, ['o-cc']],
  [`Observation?code-value-quantity=${LOINC}|1920-8$24`, ['o-text']],
  [`Observation?combo-code-value-quantity=${LOINC}|1920-8$gt20`, ['o-text']],
  [`Observation?code-value-quantity=free text$7`, []],
  ['Observation?code:text=ast', ['o-text']],
  ['Observation?code:text=free', ['o-textonly']],
  // :missing asks whether the resource has a complete tuple
  ['Observation?code-value-date:missing=false', []],
  ['Observation?code-value-date:missing=true', ALL],
  ['Observation?code-value-string:missing=false', ['o-str']],
  ['Observation?code-value-quantity:missing=false', ['o-qty', 'o-text']],
  ['Observation?code-value-quantity:missing=true', except('o-qty', 'o-text')],
  ['Observation?code-value-concept:missing=true', except('o-cc')],
  ['Observation?code:missing=true', ['o-nocode']],
  ['Observation?combo-code-value-concept:missing=false', ['o-cc']],
  ['Observation?combo-code-value-quantity:missing=false', ['o-comp', 'o-qty', 'o-text']],
  ['Observation?component-code-value-quantity:missing=false', ['o-comp']],
  ['Observation?component-code-value-concept:missing=false', []],
  ['Observation?component-code-value-concept:missing=true', ALL],
];

describeOnEngines('store/search composite tuples in the index', (engine) => {
  const store = storeWith(engine, fixtures);
  itMatches(store, cases);

  it('writes a complete tuple whole and nothing of the incomplete ones', async () => {
    const count = async (id: string, sp: string): Promise<number> => {
      const row = await store().engine.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM sp_token t JOIN resource r ON r.rid = t.rid WHERE r.id = ? AND t.sp = ?`,
        [id, sp],
      );
      return Number(row?.n ?? -1);
    };
    // o-qty: its code (two codings) with its quantity is complete, and read from the rows of
    // `code` and `value-quantity` (root-composite-rows.test.ts); as a date or string tuple it has
    // no value
    assert.equal(await count('o-qty', 'Observation.code-value-quantity#0'), 0);
    assert.equal(await count('o-qty', 'Observation.code'), 2);
    assert.equal(await count('o-qty', 'Observation.code-value-date#0'), 0);
    assert.equal(await count('o-qty', 'Observation.code-value-string#0'), 0);
    assert.equal(await count('o-qty', 'Observation.code-value-concept#0'), 0);
    // o-comp: the component with a value is a complete tuple; the other one leaves nothing
    assert.equal(await count('o-comp', 'Observation.component-code-value-quantity#0'), 1);
    assert.equal(await count('o-comp', 'Observation.component-code-value-concept#0'), 0);
    assert.equal(await count('o-nocode', 'Observation.code-value-quantity#0'), 0);
  });

  it('writes no component row without a system or code (a text, a display alone)', async () => {
    const row = await store().engine.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM sp_token
        WHERE grp IS NOT NULL AND system IS NULL AND code IS NULL`,
      [],
    );
    assert.equal(Number(row?.n ?? -1), 0);
    const text = await store().engine.get<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM sp_token t JOIN resource r ON r.rid = t.rid
        WHERE r.id = 'o-text' AND t.sp = 'Observation.code' AND t.text IS NOT NULL`,
      [],
    );
    assert.equal(Number(text?.n ?? -1), 1); // the code's own parameter keeps its text
  });
});
