import assert from 'node:assert/strict';
import { TurnBatch } from '../../common/turn-batch.js';

describe('TurnBatch (what one event-loop turn asks, answered with one call)', () => {
  const turn = () => new Promise((r) => setImmediate(r));

  it('answers every key of a turn with one call, made once the turn has run', async () => {
    const calls: string[][] = [];
    const batch = new TurnBatch<string, number>((keys) => {
      calls.push([...keys]);
      return Promise.resolve(new Map(keys.map((k) => [k, k.length])));
    }, -1);
    const answers = Promise.all(['a', 'bb', 'a', 'ccc'].map((k) => batch.get(k)));
    assert.equal(calls.length, 0);
    assert.deepEqual(await answers, [1, 2, 1, 3]);
    assert.deepEqual(calls, [['a', 'bb', 'ccc']]);
  });

  it('gives a key the answer leaves out the missing value', async () => {
    const batch = new TurnBatch<string, string | undefined>(
      () => Promise.resolve(new Map([['found', 'row']])),
      undefined,
    );
    assert.deepEqual(await Promise.all([batch.get('found'), batch.get('nope')]), [
      'row',
      undefined,
    ]);
  });

  it('starts a new call for keys asked after the turn has been sent', async () => {
    const calls: string[][] = [];
    const batch = new TurnBatch<string, boolean>((keys) => {
      calls.push([...keys]);
      return Promise.resolve(new Map(keys.map((k) => [k, true])));
    }, false);
    const first = batch.get('x');
    await turn();
    const second = batch.get('x');
    await Promise.all([first, second]);
    assert.deepEqual(calls, [['x'], ['x']]);
  });

  it("rejects every key of a turn whose call fails, and answers the next turn's", async () => {
    let fail = true;
    const batch = new TurnBatch<string, number>((keys) => {
      if (fail) return Promise.reject(new Error('connection lost'));
      return Promise.resolve(new Map(keys.map((k) => [k, 1])));
    }, 0);
    const settled = await Promise.allSettled([batch.get('a'), batch.get('b')]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await batch.get('a'), 1);
  });
});
