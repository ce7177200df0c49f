import assert from 'node:assert/strict';
import { describeOnEngines } from '../../support/engines.js';
import { itMatches, storeWith } from './support/query-table.js';
import type { Res } from './support/test-store.js';

/**
 * A CodeableConcept's text gets a token row of its own only when no coding's display says the
 * same (once normalised): `:text` finds the resource through the coding's row either way.
 */

const LOINC = 'http://loinc.org';
const obs = (id: string, code: Record<string, unknown>): Res => ({
  resourceType: 'Observation',
  id,
  status: 'final',
  code,
});

const fixtures: Res[] = [
  obs('o-same', {
    coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }],
    text: ' HEART   rate ',
  }),
  obs('o-diff', {
    coding: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }],
    text: 'Pulse',
  }),
  obs('o-second', {
    coding: [
      { system: LOINC, code: '29463-7', display: 'Body weight' },
      { system: 'http://snomed.info/sct', code: '27113001', display: 'Body weight (observable)' },
    ],
    text: 'Body weight (observable)',
  }),
  obs('o-nodisplay', { coding: [{ system: LOINC, code: '8302-2' }], text: 'Body height' }),
  obs('o-textonly', { text: 'Pulse rate' }),
];

const cases: [string, string[]][] = [
  ['Observation?code:text=heart', ['o-diff', 'o-same']],
  ['Observation?code:text=heart rate', ['o-diff', 'o-same']],
  ['Observation?code:text=pulse', ['o-diff', 'o-textonly']],
  ['Observation?code:text=body', ['o-nodisplay', 'o-second']],
  ['Observation?code:text=body weight (obs', ['o-second']],
  ['Observation?code=8867-4', ['o-diff', 'o-same']],
  ['Observation?code:not=8867-4', ['o-nodisplay', 'o-second', 'o-textonly']],
  ['Observation?code:missing=false', ['o-diff', 'o-nodisplay', 'o-same', 'o-second', 'o-textonly']],
];

describeOnEngines('store/search token rows of a CodeableConcept text', (engine) => {
  const store = storeWith(engine, fixtures);
  itMatches(store, cases);

  it('writes the text as a row only where no display says the same', async () => {
    const rows = await store().engine.all<{ id: string; n: number | string }>(
      "SELECT r.id, COUNT(*) AS n FROM sp_token t JOIN resource r ON r.rid = t.rid WHERE t.sp = 'Observation.code' AND t.system IS NULL AND t.code IS NULL GROUP BY r.id ORDER BY r.id",
    );
    assert.deepEqual(
      rows.map((r) => [r.id, Number(r.n)]),
      [
        ['o-diff', 1],
        ['o-nodisplay', 1],
        ['o-textonly', 1],
      ],
    );
  });
});
