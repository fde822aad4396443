/**
 * An API replica as a child process for the benches: the replicas test's fixture (apps/api/test/replica-process.ts),
 * so the benches and `pnpm test` start replicas one way.
 */
export { freePort, type ReplicaProcess, startReplica } from '../../apps/api/test/replica-process.ts';
