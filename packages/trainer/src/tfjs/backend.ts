/**
 * TensorFlow.js backend selection for Node: `@tensorflow/tfjs-node` (native libtensorflow) when it loads, else
 * `@tensorflow/tfjs-backend-wasm`, else the pure-JS cpu backend. tfjs-node is an optional dependency whose install
 * script downloads a native addon; without network it is present but cannot load, which we catch and record.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerGatherRowsKernel } from './gather-rows.ts';
import { registerScatterAddKernels } from './scatter-add.ts';

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface TfjsBackendInfo {
  /** The backend tfjs is running on ('tensorflow' is tfjs-node). */
  name: TfjsBackendName;
  /** Backends tried before this one, with why each was skipped. */
  skipped: { name: TfjsBackendName; reason: string }[];
}

const ORDER: TfjsBackendName[] = ['tensorflow', 'wasm', 'cpu'];
let current: Promise<TfjsBackendInfo> | undefined;
let currentPrefer: TfjsBackendName | 'auto' | undefined;
let wasmPathsSet = false;

/**
 * Selects and initialises the fastest available backend (once per process; later calls return the same result).
 * `prefer` starts the search at that backend (e.g. 'cpu' to skip native and wasm); the search still falls back.
 */
export function initTfjsBackend(prefer: TfjsBackendName | 'auto' = 'auto'): Promise<TfjsBackendInfo> {
  if (current && currentPrefer === prefer) return current;
  currentPrefer = prefer;
  current = selectBackend(prefer);
  return current;
}

async function selectBackend(prefer: TfjsBackendName | 'auto'): Promise<TfjsBackendInfo> {
  const skipped: TfjsBackendInfo['skipped'] = [];
  const start = prefer === 'auto' ? 0 : ORDER.indexOf(prefer);
  if (start < 0)
    throw new Error(`initTfjsBackend: unknown backend '${prefer}' (use ${ORDER.join(', ')} or auto)`);
  for (const name of ORDER.slice(start)) {
    try {
      await loadBackend(name);
      // after the backend's own kernels are registered
      registerScatterAddKernels();
      registerGatherRowsKernel();
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
      await tf.ready();
      return { name, skipped };
    } catch (error) {
      skipped.push({ name, reason: firstLine(error) });
    }
  }
  throw new Error(
    `no TensorFlow.js backend could be initialised: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

async function loadBackend(name: TfjsBackendName): Promise<void> {
  if (name === 'tensorflow') {
    // Registers the 'tensorflow' backend on import; throws when the native addon is missing. The specifier is a
    // variable so that type-checking does not require the optional package to be installed.
    const tfjsNode = '@tensorflow/tfjs-node';
    await import(tfjsNode);
  } else if (name === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      // The .wasm binaries ship in the package's dist folder; point tfjs at it explicitly (a directory prefix).
      const require = createRequire(import.meta.url);
      const pkg = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
      wasm.setWasmPaths(path.join(path.dirname(pkg), 'dist') + path.sep);
      wasmPathsSet = true;
    }
  }
  // cpu ships inside @tensorflow/tfjs.
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
