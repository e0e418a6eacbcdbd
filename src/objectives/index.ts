// Training objectives as units (one file each: schema, paper, reference/negative needs, extra
// inputs, loss) and the registry that collects them.

export { dmpo } from "./dmpo.js";
export { dpo } from "./dpo.js";
export { ipo } from "./ipo.js";
export {
  type DataSummary,
  defineObjective,
  type ExampleSignals,
  type ObjectiveDefinition,
  type ObjectiveInputs,
  type ObjectiveOutput,
} from "./objective.js";
export { recpo } from "./recpo.js";
export {
  checkObjectiveData,
  isPreference,
  needsReference,
  negativesUsed,
  type Objective,
  type ObjectiveSettings,
  type ObjectiveType,
  objectiveDefaults,
  objectiveDefinition,
  objectiveDefinitions,
  objectiveExampleInputs,
  objectiveInputNames,
  objectiveLoss,
  objectiveNames,
  objectivePromptLoss,
  objectiveSchema,
  objectivesTable,
  parseObjective,
  registerObjective,
} from "./registry.js";
export { sdpo } from "./sdpo.js";
export { PROMPT_LOSS_MODES, type PromptLossMode, sft } from "./sft.js";
export { simpo } from "./simpo.js";
