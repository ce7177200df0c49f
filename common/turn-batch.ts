interface Waiting<V> {
  promise: Promise<V>;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the keys asked during one event-loop turn and answers them with one call of `answer`,
 * made once the turn's callbacks have run (setImmediate). Every request it answers had arrived
 * before the call, so a database read made by `answer` sees every change committed before any of
 * them arrived. A key asked twice in a turn is answered once; a key `answer` leaves out (or maps
 * to undefined) resolves to `missing`; when `answer` fails, every key of its turn rejects. Under
 * load several requests arrive per turn and share one round trip; alone, a request waits only for
 * the turn's end.
 */
export class TurnBatch<K, V> {
  #waiting = new Map<K, Waiting<V>>();

  constructor(
    private readonly answer: (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly missing: V,
  ) {}

  get(key: K): Promise<V> {
    const known = this.#waiting.get(key);
    if (known !== undefined) return known.promise;
    let resolve: (value: V) => void = () => undefined;
    let reject: (err: unknown) => void = () => undefined;
    const promise = new Promise<V>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    if (this.#waiting.size === 0)
      setImmediate(() => {
        void this.#send();
      });
    this.#waiting.set(key, { promise, resolve, reject });
    return promise;
  }

  /** Answers this turn's keys; a key asked from now on waits for the next turn's call. */
  async #send(): Promise<void> {
    const batch = this.#waiting;
    this.#waiting = new Map();
    try {
      const values = await this.answer([...batch.keys()]);
      for (const [key, w] of batch) {
        const value = values.get(key);
        w.resolve(value === undefined ? this.missing : value);
      }
    } catch (err) {
      for (const w of batch.values()) w.reject(err);
    }
  }
}
