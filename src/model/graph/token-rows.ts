// Token rows in the graph: an embedding lookup and an LM head where the rows of some token ids
// come from another tensor (PEFT trainable tokens, or LLaRA's projected item rows). The base
// weight is never copied: lookups pick per id, the head computes the extra logits and gathers
// each column from the right place, so gradients reach only the replacement rows.

import {
  concat,
  gather,
  less,
  matmul,
  transpose,
  unsqueeze,
  type Value,
  where,
} from "../../graph/index.js";

/** int64 [V]: r for token id indices[r], `other(v)` for every other id v. */
function tokenTable(vocabSize: number, indices: readonly number[], other: (v: number) => number) {
  const table = new BigInt64Array(vocabSize);
  for (let v = 0; v < vocabSize; v++) table[v] = BigInt(other(v));
  indices.forEach((id, r) => {
    table[id] = BigInt(r);
  });
  return table;
}

/** Embeddings [..., D] of int64 ids from `weight` [V, D], with `rows` [n, D] for `indices`. */
export function embedWithRows(
  weight: Value,
  ids: Value,
  indices: readonly number[],
  rows: Value,
): Value {
  const V = weight.shape[0] as number;
  const n = indices.length;
  const table = weight.graph.constant(
    tokenTable(V, indices, () => n),
    [V],
    "int64",
  );
  const row = gather(table, ids, 0); // n for ids without a replacement row
  const replaced = less(row, n);
  const picked = gather(rows, where(replaced, row, 0), 0);
  return where(unsqueeze(replaced, [-1]), picked, gather(weight, ids, 0));
}

/** Logits x·Wᵀ [..., V] (however computed) with the columns of `indices` taken from x·rowsᵀ. */
export function withRowColumns(
  logits: Value,
  x: Value,
  indices: readonly number[],
  rows: Value,
): Value {
  const V = logits.shape[logits.rank - 1] as number;
  const all = concat([logits, matmul(x, transpose(rows))], -1);
  // Column v of the result: column v of x·Wᵀ, or column V + r for the r-th replaced id.
  const columns = tokenTable(V, [], (v) => v);
  indices.forEach((id, r) => {
    columns[id] = BigInt(V + r);
  });
  return gather(all, logits.graph.constant(columns, [V], "int64"), all.rank - 1);
}
