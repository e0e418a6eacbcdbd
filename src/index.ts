// prefrec's library entry point.
export * as baselines from "./baselines/index.js";
export * as data from "./data/index.js";
export { type EvalMetrics, evaluate, type Prediction } from "./eval/evaluate.js";
export { loadRecommender } from "./eval/load.js";
export { rankingMetrics, rankOf } from "./eval/ranking.js";
export { type ExperimentConfig, loadExperiment, parseExperiment } from "./experiment/config.js";
export { runExperiment } from "./experiment/run.js";
export { runExperimentSeeds } from "./experiment/seeds.js";
export * from "./graph/index.js";
export { packCompletions, packPrompts, packSequences } from "./model/batch.js";
export {
  loadCheckpoint,
  planWeights,
  saveCheckpoint,
  type WeightsDtype,
} from "./model/checkpoint.js";
export { type LmConfig, loadLmConfig } from "./model/config.js";
export { type Adapter, type Generation, LanguageModel } from "./model/lm.js";
export { LmRecommender } from "./model/lm-recommender.js";
export { initLoraWeights, mergeLora } from "./model/lora.js";
export { estimateMemory, type MemoryEstimate, peakRss } from "./model/memory.js";
export { loadLoraAdapter, saveLoraAdapter } from "./model/peft.js";
export {
  growForTokens,
  initTokenRows,
  mergeTokenRows,
  type TokenRows,
  type TrainableTokens,
} from "./model/peft-tokens.js";
export {
  initItemRows,
  newItemProjection,
  projectItemRows,
  randomProjection,
  resizeVocab,
} from "./model/resize.js";
export {
  ITEM_REPRESENTATIONS,
  type ItemRepresentation as LmItemRepresentation,
  ItemVocab,
  writeItemTokenizer,
} from "./model/tokenizer/items.js";
export { LmTokenizer } from "./model/tokenizer/tokenizer.js";
export {
  defineObjective,
  type Objective,
  type ObjectiveDefinition,
  objectiveLoss,
  objectiveNames,
  registerObjective,
} from "./objectives/index.js";
export {
  type BaselineData,
  type BaselineSummary,
  loadBaselineData,
  trainBaseline,
} from "./train/baselines.js";
export { parseTrainConfig, type TrainConfig } from "./train/config.js";
export * from "./train/optim.js";
export { type TrainSummary, train } from "./train/trainer.js";
