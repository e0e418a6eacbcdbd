// prefrec's library entry point.
export * from "./graph/index.js";
export * from "./train/optim.js";
