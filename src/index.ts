// prefrec's library entry point.
export * from "./graph/index.js";
export { layerNorm, linear, rmsNorm } from "./graph/layers.js";
export * from "./train/optim.js";
