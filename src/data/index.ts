// Public API of the data layer.

export { createRng, dataRng, deriveSeed, type Rng } from "../io/rng.js";
export {
  type CatalogItem,
  type LoadOptions,
  loadExamples,
  loadPrepared,
  type PreferenceRecord,
  type PreparedDataset,
  readExamples,
  toIds,
  toPreference,
  toSdpoRecord,
  verifyPrepared,
} from "./dataset.js";
export { DOWNLOADS, downloadDataset, downloadSpec } from "./download.js";
export { DataError } from "./errors.js";
export { inspectDataset } from "./inspect.js";
export {
  DATASET_FORMAT,
  DEFAULT_PREPARE,
  type Manifest,
  type PrepareOptions,
  prepareDataset,
} from "./prepare.js";
export { loadTemplates, renderPrompt } from "./prompts.js";
export { PyRandom } from "./pyrandom.js";
export { DEFAULT_SIGNALS, observedSignal, phi, unobservedSignal } from "./signals.js";
export { SOURCES } from "./sources/index.js";
export {
  DEFAULT_SYNTH,
  generateWorld,
  loadSynthTruth,
  type SynthTruth,
  tasteAt,
  truthScore,
  writeSynth,
} from "./synth.js";
export * from "./types.js";
