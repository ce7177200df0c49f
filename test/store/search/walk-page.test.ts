import assert from 'node:assert/strict';
import type { Queryable } from '../../../store/engines/engine.js';
import type { AccessConstraint } from '../../../store/protocol.js';
import {
  executeSearch,
  searchRequestFromHttp,
  type SearchPage,
} from '../../../store/search/index.js';
import type { WalkTuning } from '../../../store/search/search-input.js';
import { WALK_DEFAULTS } from '../../../store/search/results/walk-plan.js';
import { describeOnEngines } from '../../support/engines.js';
import { BASE, LIMITS, search } from './support/run-search.js';
import { TestStore, type Res } from './support/test-store.js';

/**
 * Differential test of the walked pages (results/walk-page.ts): a search in row id order whose
 * clauses match many rows walks the rows of its type, drives from a clause that lists few, or
 * lists every match (`walk: false`); a search that is not walked drives from its narrowest
 * clause on SQLite (walk-plan.ts narrowDriver) or lists every match (`walk: false`); a lone chain
 * reads its page from the chain's sorted list (lone-chain.ts) or, with `walk: false`, lists every
 * match. Every page of every plan, followed forwards from the first
 * page and backwards from the last, must be the same: same resources, same order, same links
 * (cursors included), same total. Small windows make walks end mid-page, so the page continues
 * past the walk's edge, and cross the cursor's position.
 */

const QUERIES = [
  'Observation?date=ge2021-01-01&date=lt2021-04-01',
  // matches only in the last patients' rows: every small walk ends before the page is full
  'Observation?date=ge2023-10-01&date=lt2024-01-01',
  'Observation?date=ge2030-01-01&date=lt2030-04-01',
  'Observation?date=ge2020-01-01',
  'Observation?date=lt2020-07-01&date=ge2020-01-01',
  'Observation?date=ge2021-01-01&date=lt2022-01-01&_total=accurate',
  'Observation?value-quantity=gt50',
  'Observation?value-quantity=gt50&date=ge2022-01-01',
  'Patient?_has:Observation:patient:code=common',
  'Patient?_has:Observation:patient:code=half',
  'Patient?_has:Observation:patient:code=rare',
  'Patient?_has:Observation:patient:code=none',
  'Patient?_has:Observation:patient:code=half&_has:Observation:patient:date=ge2023-01-01',
  'Patient?_has:Observation:patient:code=common&_include=Patient:organization',
  // not walked: driven by the clause that lists fewest (SQLite), the others tested per row
  'Observation?patient=p05&code=common',
  'Observation?code=rare&status=final',
  'Observation?subject=Patient/p05&date=ge2021-01-01',
  'Observation?code=common&status=final&_sort=-date',
  'Observation?code=half&status=final&patient.gender=female',
  // a lone chain: read from its sorted list (lone-chain.ts), each listed row tested in page order
  'Observation?patient.gender=female',
  'Observation?patient.gender=male',
  'Observation?subject:Patient.organization.name=acme',
  'Observation?patient.gender=other',
];

const TUNINGS: [string, WalkTuning][] = [
  ['the default windows', WALK_DEFAULTS],
  [
    'walks of four rows (two for _has), never driven',
    { leafWindow: 4, hasWindow: 2, narrow: 0, hasNarrow: 0 },
  ],
  ['walks of one row, never driven', { leafWindow: 1, hasWindow: 1, narrow: 0, hasNarrow: 0 }],
  [
    'walks of four rows, driven below six rows',
    { leafWindow: 4, hasWindow: 2, narrow: 6, hasNarrow: 6 },
  ],
  [
    'walks of four rows, a _has driven below sixty rows on PostgreSQL',
    { leafWindow: 4, hasWindow: 2, narrow: 0, hasNarrow: 60 },
  ],
];

const CONSTRAINT: AccessConstraint = {
  types: {
    Observation: { anyOf: ['status=final', 'code=rare'] },
    Patient: { anyOf: ['gender=female'] },
    Organization: {},
  },
};

interface Seen {
  ids: string[];
  links: string[];
  total: number | undefined;
}

const seen = (p: SearchPage): Seen => ({
  ids: p.entries.map((e) => `${e.mode} ${e.type}/${e.id}`),
  links: p.links.map((l) => `${l.relation} ${l.url}`),
  total: p.total,
});

const link = (p: SearchPage, rel: string): string | undefined =>
  p.links.find((l) => l.relation === rel)?.url.slice(BASE.length + 1);

/** Every page forwards from the first, then backwards from the last. */
async function allPages(
  store: TestStore,
  url: string,
  walk: WalkTuning | false,
  constraint?: AccessConstraint,
): Promise<Seen[]> {
  const opts = { limits: { walk }, ...(constraint === undefined ? {} : { constraint }) };
  const out: Seen[] = [];
  let page = await search(store, `${url}&_count=3`, opts);
  out.push(seen(page));
  const last = link(page, 'last');
  for (let n = link(page, 'next'); n !== undefined; n = link(page, 'next')) {
    page = await search(store, n, opts);
    out.push(seen(page));
  }
  if (last === undefined) return out;
  page = await search(store, last, opts);
  out.push(seen(page));
  for (let p = link(page, 'previous'); p !== undefined; p = link(page, 'previous')) {
    page = await search(store, p, opts);
    out.push(seen(page));
  }
  return out;
}

function observation(id: string, patient: string, date: string, code: string, value: number): Res {
  return {
    resourceType: 'Observation',
    id,
    status: value % 3 === 0 ? 'preliminary' : 'final',
    code: { coding: [{ system: 'http://example.org/codes', code }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' },
  };
}

describeOnEngines('store/search walked pages agree with listed matches', (engine) => {
  let store: TestStore;
  before(async function () {
    this.timeout(120_000);
    store = await new TestStore(engine).init();
    await store.put({ resourceType: 'Organization', id: 'org', name: 'Acme' });
    for (let i = 0; i < 30; i++) {
      const p = `p${String(i).padStart(2, '0')}`;
      await store.put({
        resourceType: 'Patient',
        id: p,
        gender: i % 3 === 0 ? 'male' : 'female',
        managingOrganization: { reference: 'Organization/org' },
      });
      for (let j = 0; j < 6; j++) {
        const year = 2020 + ((i + j) % 3);
        const month = String(1 + ((i * 7 + j * 5) % 12)).padStart(2, '0');
        const code = j === 0 ? 'common' : j === 1 && i % 2 === 0 ? 'half' : `c${j}`;
        await store.put(
          observation(
            `o${p}-${j}`,
            p,
            `${year}-${month}-15T10:00:00Z`,
            code,
            (i * 13 + j * 7) % 100,
          ),
        );
      }
      if (i >= 24) {
        await store.put(observation(`o${p}-late`, p, '2023-11-20', i >= 27 ? 'rare' : 'c9', 99));
        await store.put({ resourceType: 'Practitioner', id: `dr${i}` });
      }
    }
    // deleted rows match nothing, whichever plan finds the page
    await store.put(observation('gone', 'p05', '2021-02-01', 'common', 60));
    await store.remove('Observation', 'gone');
    await store.remove('Patient', 'p04');
  });
  after(() => store.close());

  /** The engine, recording the statements (`all` and `get`) the executor runs on it. */
  const recorder = (): {
    statements: string[];
    execute: (path: string, query: string, walk?: WalkTuning | false) => Promise<SearchPage>;
  } => {
    const statements: string[] = [];
    const spy = new Proxy(store.engine, {
      get(target, key, receiver) {
        const v: unknown = Reflect.get(target, key, receiver);
        if ((key !== 'all' && key !== 'get') || typeof v !== 'function') return v;
        return (sql: string, ...rest: unknown[]): unknown => {
          statements.push(sql);
          return (v as (...a: unknown[]) => unknown).call(target, sql, ...rest);
        };
      },
    }) as Queryable;
    /** `GET [base]/<path>?<query>` through the executor on the recording engine, afresh. */
    const execute = (
      path: string,
      query: string,
      walk?: WalkTuning | false,
    ): Promise<SearchPage> => {
      statements.length = 0;
      const input = searchRequestFromHttp({ method: 'GET', path, query, baseUrl: BASE });
      return executeSearch(spy, input, { ...LIMITS, ...(walk === undefined ? {} : { walk }) });
    };
    return { statements, execute };
  };

  for (const url of QUERIES)
    it(`pages ${url} the same on every plan`, async () => {
      const listed = await allPages(store, url, false);
      assert.ok(listed.length > 0);
      for (const [name, tuning] of TUNINGS)
        assert.deepEqual(await allPages(store, url, tuning), listed, name);
    });

  it('finds pages past walks that end before the page is full', async () => {
    const listed = await allPages(store, 'Observation?date=ge2023-10-01&date=lt2024-01-01', false);
    const ids = listed.flatMap((p) => p.ids);
    // the late rows of patients 24 to 29, at least two pages of three
    assert.ok(
      ids.includes('match Observation/op24-late') && ids.includes('match Observation/op29-late'),
    );
    assert.ok(listed.length >= 4);
  });

  it('walks on past each edge without a statement to find the next one', async () => {
    const { statements, execute } = recorder();
    const page = await execute('Observation', 'date=ge2023-10-01&date=lt2024-01-01&_count=3', {
      leafWindow: 2,
      hasWindow: 2,
      narrow: 0,
      hasNarrow: 0,
    });
    assert.deepEqual(
      page.entries.map((e) => e.id),
      (await allPages(store, 'Observation?date=ge2023-10-01&date=lt2024-01-01', false))[0]?.ids.map(
        (i) => i.split('/')[1],
      ),
    );
    // the matches lie past several windows of two rows: each is one walk statement, its far end
    // estimated from the last one's width rather than counted row by row
    const walks = statements.filter((sql) => sql.includes('r.json'));
    assert.ok(walks.length >= 3, `${walks.length} walks`);
    assert.deepEqual(
      statements.filter((sql) => sql.startsWith('SELECT w.rid')),
      [],
    );
  });

  it(`reads a lone chain's page from its sorted list ${engine.name === 'postgres' ? 'on PostgreSQL' : 'only on PostgreSQL'}`, async () => {
    // the statements the search runs, through the real executor on this engine
    const { statements, execute } = recorder();
    const run = async (query: string, walk?: false): Promise<string[]> => {
      const page = await execute('Observation', query, walk);
      assert.ok(page.entries.length > 0, query);
      return statements.filter((s) => s.includes('r.json'));
    };
    const listed = (sqls: string[]): boolean => sqls.some((s) => s.includes('(SELECT DISTINCT'));
    const lone = await run('patient.gender=female&_count=3');
    assert.equal(listed(lone), engine.name === 'postgres', lone.join('\n'));
    // not a lone chain, or the plans switched off: the page is chosen from every match
    assert.equal(listed(await run('patient.gender=female&status=final&_count=3')), false);
    assert.equal(listed(await run('patient.gender=female&_sort=date&_count=3')), false);
    assert.equal(listed(await run('patient.gender=female&_count=3', false)), false);
  });

  it(`drives a _has that lists fewer than hasNarrow rows ${engine.name === 'postgres' ? 'on PostgreSQL' : 'only on PostgreSQL'}`, async () => {
    const { statements, execute } = recorder();
    // 'half' is on 15 Observations: under hasNarrow 60, over narrow 10
    const driven = async (hasNarrow: number): Promise<boolean> => {
      const page = await execute('Patient', '_has:Observation:patient:code=half&_count=3', {
        leafWindow: 4,
        hasWindow: 2,
        narrow: 10,
        hasNarrow,
      });
      assert.equal(page.entries.length, 3);
      const pages = statements.filter((s) => s.includes('r.json'));
      // walked: each Patient tested through its referrers (then the rest of the page read from
      // the list); driven: the referrers listed once, no Patient tested through its own
      assert.ok(pages.some((s) => s.includes('r.id IN (SELECT')));
      return !pages.some((s) => /\.tid = r\.id/.test(s));
    };
    assert.equal(await driven(60), engine.name === 'postgres');
    assert.equal(await driven(10), false);
  });

  it(`keeps a walk's per-row EXISTS a probe ${engine.name === 'postgres' ? 'on PostgreSQL (OFFSET 0)' : '(no fence needed on SQLite)'}`, async () => {
    const { statements, execute } = recorder();
    for (const [path, query] of [
      ['Observation', 'date=ge2021-01-01&date=lt2021-04-01&_count=3'],
      ['Patient', '_has:Observation:patient:code=half&_count=3'],
    ] as const) {
      const page = await execute(path, query, {
        leafWindow: 4,
        hasWindow: 2,
        narrow: 0,
        hasNarrow: 0,
      });
      assert.ok(page.entries.length > 0, query);
      const walks = statements.filter((s) => s.includes('r.json') && s.includes('EXISTS'));
      assert.ok(walks.length > 0, query);
      // PostgreSQL would otherwise turn the EXISTS into a semi join it may hash (clause-sql.ts)
      for (const sql of walks)
        assert.equal(/OFFSET 0\)/.test(sql), engine.name === 'postgres', sql);
    }
  });

  for (const url of [
    QUERIES[0] ?? '',
    QUERIES[9] ?? '',
    QUERIES[10] ?? '',
    'Observation?patient.gender=female',
  ])
    it(`pages ${url} inside an access constraint the same on every plan`, async () => {
      const listed = await allPages(store, url, false, CONSTRAINT);
      for (const [name, tuning] of TUNINGS)
        assert.deepEqual(await allPages(store, url, tuning, CONSTRAINT), listed, name);
    });
});
