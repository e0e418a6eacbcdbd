// The classic baselines (Pop, SASRec, GRU4Rec, Caser): options, run files and loading a run as a
// Recommender. Training lives in train/baselines.ts (it needs the optimizer and the metrics).
export { BASELINE_RUN_FORMAT, isBaselineRun, readRunFile } from "./checkpoint.js";
export {
  BASELINE_KINDS,
  type BaselineConfig,
  BaselineConfigError,
  type BaselineConfigInput,
  type BaselineKind,
  baselineConfigSchema,
  parseBaselineConfig,
} from "./config.js";
export { baselineCheckpointDir, loadBaselineRun } from "./load.js";
export { BaselineModel } from "./model.js";
export { lastPerUser, trainingSequences } from "./sequences.js";
