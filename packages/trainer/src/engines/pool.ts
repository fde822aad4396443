import os from 'node:os';
import { Worker } from 'node:worker_threads';

export interface WatchOptions {
  signal?: AbortSignal | undefined;
  onTick?: () => void;
}

/** Default thread count: every core the process may use. */
export const defaultThreads = (): number => os.availableParallelism();

/**
 * The training engines' worker threads (parallel SGD, BPMF's Gibbs sweeps, ALS and iALS solves): `count` workers
 * running one plain-JavaScript script (no loader flags, so it loads the same under node, tsx and vitest) that
 * receives its shared state in `workerData` and answers every message it is sent with `{ type: 'done' }` once its
 * share of the step is finished. The work itself is divided through SharedArrayBuffers (counters the workers take
 * chunks from), so one step costs one postMessage round trip per worker.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];
  readonly #name: string;

  /** `name` prefixes the errors ("<name>: a training worker failed: …"). */
  constructor(url: URL, count: number, workerData: unknown, name: string) {
    this.#name = name;
    for (let w = 0; w < count; w++) {
      // no loader flags inherited from a tsx parent: the worker is plain JavaScript
      const worker = new Worker(url, { execArgv: [], workerData });
      // errors reach the running step's listener; this one keeps a second worker's error from going unhandled
      worker.on('error', () => {});
      this.#workers.push(worker);
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /**
   * Sends `message` to every worker and resolves when each has answered 'done'. Rejects with a worker's error
   * (or the abort reason of `signal`) as soon as one fails; the caller then closes the pool, which stops the others.
   * `onTick` runs every 250 ms while the step runs (progress).
   */
  run(message: unknown, options: WatchOptions = {}): Promise<void> {
    const workers = this.#workers;
    let onMessage: (m: { type: string }) => void = () => {};
    const answered = new Promise<void>((resolve) => {
      let pending = workers.length;
      onMessage = (m) => {
        if (m.type === 'done' && --pending === 0) resolve();
      };
    });
    for (const w of workers) w.on('message', onMessage);
    return this.until(answered, options, () => {
      for (const w of workers) w.postMessage(message);
    }).finally(() => {
      for (const w of workers) w.off('message', onMessage);
    });
  }

  /** Sends `message` to every worker, expecting no answer (workers that then run on their own, as sgd-worker.mjs). */
  post(message: unknown): void {
    for (const w of this.#workers) w.postMessage(message);
  }

  /**
   * Resolves as `work` does (the caller's own signal that a step is done, e.g. an Atomics.waitAsync), unless a
   * worker fails first (an error, or an exit: rejects with "<name>: a training worker failed: …") or `signal`
   * aborts (rejects with its reason). `start` runs once the listeners are in place. `onTick`: every 250 ms.
   */
  until<T>(work: Promise<T>, options: WatchOptions = {}, start?: () => void): Promise<T> {
    const workers = this.#workers;
    const name = this.#name;
    const { signal, onTick } = options;
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const cleanup = () => {
        for (const w of workers) {
          w.off('error', onError);
          w.off('exit', onExit);
        }
        signal?.removeEventListener('abort', onAbort);
        if (ticker) clearInterval(ticker);
      };
      const fail = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const onError = (error: Error) =>
        fail(new Error(`${name}: a training worker failed: ${error.message}`, { cause: error }));
      const onExit = (code: number) => fail(new Error(`${name}: a training worker exited (code ${code})`));
      const onAbort = () => fail(signal?.reason);
      const ticker = onTick ? setInterval(onTick, 250) : undefined;
      for (const w of workers) {
        w.on('error', onError);
        w.on('exit', onExit);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          cleanup();
          resolve(value);
        },
        (error: unknown) => fail(error),
      );
      start?.();
    });
  }

  /** Stops every worker (also mid-step). */
  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
