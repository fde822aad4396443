/**
 * An API replica as a child process (this app's src/main.ts through tsx): started on a database, ready once it
 * prints `{"listening": …}`, stopped with SIGTERM. Auth off on loopback: the clients of the replicas test and of the
 * benches act as many users, as an internal network behind a load balancer does. Used by test/replicas.test.ts and
 * by the benches (bench/lib/replica.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface ReplicaProcess {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts a replica on `databaseUrl` (`port` 0: any free one); `onSpawn` receives the child before it listens (so a
 * caller can stop one that never gets there). Rejects if it exits before listening.
 */
export async function startReplica(
  databaseUrl: string,
  options: {
    port?: number;
    env?: Record<string, string>;
    /** Node/V8 flags for the child (a bench's experiments: `--trace-gc`, heap sizes). */
    nodeArgs?: readonly string[];
    onSpawn?: (child: ChildProcess) => void;
  } = {},
): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', main], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MOVIEREC_AUTH: 'off',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  options.onSpawn?.(child);
  const url = await new Promise<string>((done, fail) => {
    child.once('exit', (code) =>
      fail(new Error(`replica${options.port ? ` on ${options.port}` : ''} exited ${code} before listening`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('{"listening"')) done((JSON.parse(line) as { listening: string }).listening);
    });
  });
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
    });
  return { url, port: Number(new URL(url).port), child, stop };
}

/** A free TCP port on loopback (for a process that must be told its port, such as HAProxy). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => done(port));
    });
  });
}
