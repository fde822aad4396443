export type { Engine, EpochStats, FitOptions, TrainConfig } from './engine.ts';
