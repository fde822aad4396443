export * as tf from '@tensorflow/tfjs';
export { initTfjsBackend, type TfjsBackendInfo, type TfjsBackendName } from './backend.ts';
export { registerGatherRowsKernel } from './gather-rows.ts';
export { buildMFModel, getMFWeights, LAYER, predictMF, setMFWeights, type TfjsMFConfig } from './model.ts';
export { registerScatterAddKernels } from './scatter-add.ts';
