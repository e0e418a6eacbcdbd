// Loads every op module so that all op definitions are registered.
export * from "./elementwise.js";
export * from "./fused.js";
export * from "./indexing.js";
export * from "./nn.js";
export * from "./reduce.js";
export * from "./shape.js";
export type { Operand } from "./util.js";
