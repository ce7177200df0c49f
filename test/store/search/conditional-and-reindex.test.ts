import assert from 'node:assert/strict';
import { Command } from 'commander';
import { loadConfig } from '../../../common/config.js';
import {
  conditionalTargets,
  executeSearch,
  refreshStatistics,
  resolveConditionalReference,
  resolveConditionalReferences,
  searchRequestFromHttp,
  reindexAll,
  registerSearchCommands,
  validateSearchParameter,
  StatisticsKeeper,
} from '../../../store/search/index.js';
import { BASE, ids, search } from './support/run-search.js';
import { describeOnEngines } from '../../support/engines.js';
import { TestStore } from './support/test-store.js';

const opts = { baseUrl: BASE, queryTimeoutMs: 5000 };
const status = (n: number) => (e: { status?: number }) => e.status === n;

describeOnEngines(
  'store/search conditional operations, reindex and custom parameters',
  (engine) => {
    let store: TestStore;
    before(async () => {
      store = await new TestStore(engine).init();
      await store.put({
        resourceType: 'Patient',
        id: 'one',
        identifier: [{ system: 'urn:mrn', value: '1' }],
      });
      await store.put({
        resourceType: 'Patient',
        id: 'twin1',
        identifier: [{ system: 'urn:mrn', value: '2' }],
      });
      await store.put({
        resourceType: 'Patient',
        id: 'twin2',
        identifier: [{ system: 'urn:mrn', value: '2' }],
      });
    });
    after(() => store.close());

    it('applies the http.html rules inside the write transaction', async () => {
      await store.engine.transaction(async (tx) => {
        assert.deepEqual(
          (await conditionalTargets(tx, 'create', 'Patient', 'identifier=urn:mrn|1', opts)).map(
            (m) => m.id,
          ),
          ['one'],
        );
        assert.deepEqual(
          await conditionalTargets(tx, 'update', 'Patient', 'identifier=urn:mrn|9', opts),
          [],
        );
        await assert.rejects(
          conditionalTargets(tx, 'update', 'Patient', 'identifier=urn:mrn|2', opts),
          status(412),
        );
        await assert.rejects(
          conditionalTargets(tx, 'patch', 'Patient', 'identifier=urn:mrn|9', opts),
          status(404),
        );
        await assert.rejects(
          conditionalTargets(tx, 'reference', 'Patient', 'identifier=urn:mrn|9', opts),
          status(412),
        );
        assert.equal(
          (
            await conditionalTargets(tx, 'delete', 'Patient', 'identifier=urn:mrn|2', {
              ...opts,
              max: 2,
            })
          ).length,
          2,
        );
        await assert.rejects(
          conditionalTargets(tx, 'delete', 'Patient', 'identifier=urn:mrn|2', { ...opts, max: 1 }),
          status(412),
        );
      });
    });
    it('resolves a conditional reference of a transaction to exactly one resource', async () => {
      await store.engine.transaction(async (tx) => {
        assert.equal(
          await resolveConditionalReference(tx, 'Patient?identifier=urn:mrn|1', opts),
          'Patient/one',
        );
        await assert.rejects(
          resolveConditionalReference(tx, 'Patient?identifier=urn:mrn|2', opts),
          status(412),
        );
        await assert.rejects(
          resolveConditionalReference(tx, 'Patient?identifier=urn:mrn|404', opts),
          status(412),
        );
      });
    });
    it('collects and resolves every conditional reference of a transaction', async () => {
      const resources = [
        {
          resourceType: 'Observation',
          subject: { reference: 'Patient?identifier=urn:mrn|1' },
          code: { text: 'Patient?x' },
        },
        {
          resourceType: 'Encounter',
          subject: { reference: 'Patient?identifier=urn:mrn|1' },
          participant: [{ individual: { reference: 'Practitioner/p' } }],
        },
      ];
      const map = await store.engine.transaction((tx) =>
        resolveConditionalReferences(tx, resources, opts),
      );
      assert.deepEqual([...map], [['Patient?identifier=urn:mrn|1', 'Patient/one']]);
    });
    it('answers a search past its time budget with a too-costly OperationOutcome, not a timeout', async () => {
      const input = searchRequestFromHttp({
        method: 'GET',
        path: 'Patient',
        query: 'name:contains=x',
        baseUrl: BASE,
      });
      await assert.rejects(
        executeSearch(store.engine, input, {
          defaultCount: 20,
          maxCount: 100,
          queryTimeoutMs: 1000,
          deadline: Date.now() - 1,
        }),
        (e: { status?: number; issues?: { code: string }[] }) =>
          e.status === 400 && e.issues?.[0]?.code === 'too-costly',
      );
    });
    it('gathers planner statistics', async () => {
      await refreshStatistics(store.engine, true);
      const sql =
        store.engine.dialect === 'sqlite'
          ? 'SELECT COUNT(*) AS n FROM sqlite_stat1'
          : "SELECT COUNT(*) AS n FROM pg_stats WHERE tablename = 'sp_token'";
      const row = await store.engine.get<{ n: number | string }>(sql);
      assert.ok(Number(row?.n ?? 0) > 0);
    });
    it('refreshes statistics from the search path once many writes were noted', async () => {
      const keeper = new StatisticsKeeper(3, 3_600_000);
      const analysed = async (): Promise<string> => {
        const sql =
          store.engine.dialect === 'sqlite'
            ? "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'sqlite_stat1'"
            : "SELECT COALESCE(MAX(last_analyze)::text, '') AS n FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = 'sp_token'";
        const row = await store.engine.get<{ n: number | string }>(sql);
        return String(row?.n ?? '');
      };
      await keeper.maybeRefresh(store.engine); // first search in a process: analyses when never analysed
      const before = await analysed();
      await new Promise((r) => setTimeout(r, 20));
      await keeper.maybeRefresh(store.engine); // nothing written since: no work
      assert.equal(await analysed(), before);
      for (let i = 0; i < 3; i++) keeper.noteWrite();
      await keeper.maybeRefresh(store.engine);
      const after = await analysed();
      if (store.engine.dialect === 'sqlite') assert.equal(after, '1');
      else assert.ok(after !== '' && after > before, `${before} → ${after}`);
    });
    it('refreshes statistics again once the store has grown by as many resources as it held', async () => {
      // the statements that refresh statistics, as the keeper runs them on this engine
      const refreshes: string[] = [];
      const spy = new Proxy(store.engine, {
        get(target, key, receiver) {
          const v: unknown = Reflect.get(target, key, receiver);
          if (key !== 'run' || typeof v !== 'function') return v;
          return (sql: string, ...rest: unknown[]): unknown => {
            if (/analy[sz]e|optimize/i.test(sql)) refreshes.push(sql);
            return (v as (...a: unknown[]) => unknown).call(target, sql, ...rest);
          };
        },
      });
      await refreshStatistics(store.engine, true);
      const resources = Number(
        (await store.engine.get<{ n: number | string }>('SELECT COUNT(*) AS n FROM resource'))?.n,
      );
      assert.ok(resources >= 2, `${resources} resources`);
      // far fewer writes than `everyWrites`: only the growth rule can ask for a refresh
      const keeper = new StatisticsKeeper(1_000_000, 3_600_000, 2);
      await keeper.maybeRefresh(spy); // the first search reads how many resources the store holds
      refreshes.length = 0;
      for (let i = 0; i < Math.floor(resources / 2); i++) keeper.noteWrite();
      await keeper.maybeRefresh(spy);
      assert.deepEqual(refreshes, [], 'half as many writes as resources: no refresh yet');
      for (let i = 0; i < resources; i++) keeper.noteWrite();
      await keeper.maybeRefresh(spy);
      assert.equal(refreshes.length > 0, true, 'grown by as many resources as it held');
    });
    it('treats unknown or empty criteria in a conditional operation as a 400, never as match-all', async () => {
      await assert.rejects(
        conditionalTargets(store.engine, 'create', 'Patient', 'identifer=urn:mrn|1', opts),
        status(400),
      );
      await assert.rejects(
        conditionalTargets(store.engine, 'delete', 'Patient', '_count=1', opts),
        status(400),
      );
    });
    it('validates a SearchParameter before it is stored', () => {
      assert.throws(() => {
        validateSearchParameter({
          resourceType: 'SearchParameter',
          url: 'http://x/sp',
          code: 'nick',
          base: ['Patient'],
          type: 'string',
          expression: 'Patient.name.where(',
        });
      }, status(400));
      assert.throws(() => {
        validateSearchParameter({
          resourceType: 'SearchParameter',
          url: 'http://x/sp',
          code: 'nick',
          base: ['Nope'],
          type: 'string',
          expression: 'Nope.x',
        });
      }, status(400));
      validateSearchParameter({
        resourceType: 'SearchParameter',
        url: 'http://x/sp',
        code: 'nick',
        base: ['Patient'],
        type: 'string',
        expression: "Patient.extension('http://x/nick').value",
      });
    });
    it('honours a custom SearchParameter after a reindex', async () => {
      await store.put({
        resourceType: 'Patient',
        id: 'nicky',
        extension: [{ url: 'http://x/nick', valueString: 'Bär' }],
      });
      await store.put({
        resourceType: 'SearchParameter',
        id: 'nick',
        url: 'http://x/sp',
        code: 'nick',
        base: ['Patient'],
        type: 'string',
        status: 'active',
        expression: "Patient.extension('http://x/nick').value",
      });
      await assert.rejects(search(store, 'Patient?nick=bar', { strict: true }), status(400));
      const result = await reindexAll(store.engine);
      assert.equal(result.resources, 5);
      assert.deepEqual(await ids(store, 'Patient?nick=bar', { strict: true }), ['nicky']);
      await store.put({
        resourceType: 'Patient',
        id: 'nick2',
        extension: [{ url: 'http://x/nick', valueString: 'Barney' }],
      });
      assert.deepEqual(await ids(store, 'Patient?nick=bar', { strict: true }), ['nick2', 'nicky']);
    });
    it('prints {"resources":n} from hearth reindex', async () => {
      const out: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = (s: string) => out.push(s) > 0;
      const program = new Command('hearth').exitOverride();
      const closed: boolean[] = [];
      const engine = Object.assign(Object.create(store.engine) as typeof store.engine, {
        close: () => Promise.resolve(void closed.push(true)),
      });
      registerSearchCommands(
        program,
        () => loadConfig({}),
        () => Promise.resolve(engine),
      );
      try {
        await program.parseAsync(['node', 'hearth', 'reindex']);
      } finally {
        process.stdout.write = write;
      }
      assert.deepEqual(JSON.parse(out.join('')), { resources: 6 });
      assert.deepEqual(closed, [true]);
    });
    it('serves Patient/$everything with the compartment and what it references', async () => {
      await store.put({ resourceType: 'Organization', id: 'o1', name: 'Org' });
      await store.put({
        resourceType: 'Encounter',
        id: 'e1',
        status: 'finished',
        class: { code: 'AMB' },
        subject: { reference: 'Patient/one' },
        serviceProvider: { reference: 'Organization/o1' },
        period: { start: '2020-01-01' },
      });
      await store.put({
        resourceType: 'Encounter',
        id: 'e2',
        status: 'finished',
        class: { code: 'AMB' },
        subject: { reference: 'Patient/one' },
        period: { start: '2010-01-01', end: '2010-01-02' },
      });
      const all = await search(store, 'Patient/one/$everything');
      assert.deepEqual(all.entries.map((e) => e.id).sort(), ['e1', 'e2', 'o1', 'one']);
      const recent = await search(store, 'Patient/one/$everything?start=2015-01-01');
      assert.deepEqual(recent.entries.map((e) => e.id).sort(), ['e1', 'o1', 'one']);
      const typed = await search(store, 'Patient/one/$everything?_type=Encounter&_count=1');
      assert.equal(typed.entries.length, 1);
      assert.ok(typed.links.some((l) => l.relation === 'next'));
      assert.deepEqual(await ids(store, 'Patient/one/Encounter?date=lt2015'), ['e2']);
      assert.deepEqual((await search(store, 'Patient/one/*')).entries.map((e) => e.id).sort(), [
        'e1',
        'e2',
        'one',
      ]);
    });
  },
);
