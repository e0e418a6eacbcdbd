// The engine: typed tensor programs traced into a Graph, differentiated by `grad`, lowered to
// ONNX and run by ONNX Runtime.
export { grad } from "./autodiff.js";
export * from "./dim.js";
export * from "./dtype.js";
export { isRecomputed, recomputeInBackward } from "./frozen.js";
export {
  type Attrs,
  type FileSlice,
  Graph,
  GraphError,
  type Node,
  type StoredDType,
  Value,
} from "./graph.js";
export { layerNorm, layerNormUnfused, linear, rmsNorm } from "./layers.js";
export {
  type ExternalData,
  lowerGraph,
  OPSET,
  type Outputs,
  saveOnnx,
  serialize,
  serializeWithExternal,
  toModelProto,
} from "./onnx.js";
export * from "./ops/index.js";
export { dropout, uniformLike } from "./random.js";
export * from "./runtime.js";
