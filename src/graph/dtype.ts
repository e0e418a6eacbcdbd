// Element types of graph tensors and their ONNX / typed-array counterparts.

export type DType = "float32" | "float64" | "int64" | "bool";

/** The typed array that holds a tensor of each dtype in JavaScript. */
export type TypedArrayFor<D extends DType> = D extends "float32"
  ? Float32Array
  : D extends "float64"
    ? Float64Array
    : D extends "int64"
      ? BigInt64Array
      : Uint8Array;

export type TensorData = Float32Array | Float64Array | BigInt64Array | Uint8Array;

/** ONNX TensorProto.DataType codes. */
export const ONNX_DTYPE: Record<DType, number> = { float32: 1, float64: 11, int64: 7, bool: 9 };

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4,
  float64: 8,
  int64: 8,
  bool: 1,
};

/** True for dtypes that carry gradients. */
export function isFloat(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/** The dtype of a typed array, or undefined when it is not one the engine accepts. */
export function dtypeOfArray(data: unknown): DType | undefined {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  if (data instanceof BigInt64Array) return "int64";
  if (data instanceof Uint8Array) return "bool";
  return undefined;
}

/** Allocates a zero-filled typed array of a dtype. */
export function allocate(dtype: DType, length: number): TensorData {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int64":
      return new BigInt64Array(length);
    case "bool":
      return new Uint8Array(length);
  }
}

/** Converts plain numbers to the typed array of a dtype. */
export function fromNumbers(dtype: DType, values: ArrayLike<number>): TensorData {
  const out = allocate(dtype, values.length);
  if (dtype === "int64") {
    const o = out as BigInt64Array;
    for (let i = 0; i < values.length; i++) o[i] = BigInt(Math.trunc(values[i]));
  } else {
    const o = out as Float32Array | Float64Array | Uint8Array;
    for (let i = 0; i < values.length; i++) o[i] = values[i];
  }
  return out;
}
