// A GPT-2-style language model on the engine, used by the engine benchmark: learned positions,
// pre-LayerNorm blocks, GELU (tanh) MLP, biases, tied embeddings, causal attention.

import {
  add,
  crossEntropy,
  type Dim,
  Graph,
  gather,
  gelu,
  grad,
  matmul,
  mul,
  reduceMean,
  reshape,
  softmax,
  split,
  transpose,
  type Value,
} from "../src/graph/index.js";
import { layerNorm, linear } from "../src/graph/layers.js";

export interface GptConfig {
  vocab: number;
  dModel: number;
  layers: number;
  heads: number;
  seq: number;
  batch: number;
}

/** Parameter names and shapes, in a fixed order. */
export function gptParameterShapes(c: GptConfig): [string, number[]][] {
  const d = c.dModel;
  const shapes: [string, number[]][] = [
    ["wte", [c.vocab, d]],
    ["wpe", [c.seq, d]],
  ];
  for (let l = 0; l < c.layers; l++) {
    shapes.push(
      [`h${l}.ln1.g`, [d]],
      [`h${l}.ln1.b`, [d]],
      [`h${l}.attn.w`, [d, 3 * d]],
      [`h${l}.attn.b`, [3 * d]],
      [`h${l}.proj.w`, [d, d]],
      [`h${l}.proj.b`, [d]],
      [`h${l}.ln2.g`, [d]],
      [`h${l}.ln2.b`, [d]],
      [`h${l}.fc.w`, [d, 4 * d]],
      [`h${l}.fc.b`, [4 * d]],
      [`h${l}.fc2.w`, [4 * d, d]],
      [`h${l}.fc2.b`, [d]],
    );
  }
  shapes.push(["lnf.g", [d]], ["lnf.b", [d]]);
  return shapes;
}

/** The training graph: loss and the gradient of every parameter (all fed as inputs). */
export function buildGptTrainingGraph(c: GptConfig): {
  graph: Graph;
  loss: Value;
  grads: Record<string, Value>;
} {
  const g = new Graph("gpt");
  const p = new Map<string, Value>();
  for (const [name, shape] of gptParameterShapes(c)) p.set(name, g.input(name, "float32", shape));
  const tokens = g.input("tokens", "int64", [c.batch, c.seq]);
  const targets = g.input("targets", "int64", [c.batch, c.seq]);
  const d = c.dModel;
  const dh = d / c.heads;
  const B: Dim = c.batch;
  const T: Dim = c.seq;

  // Additive causal mask: 0 on and below the diagonal, −1e9 above.
  const maskData = new Float32Array(c.seq * c.seq);
  for (let i = 0; i < c.seq; i++)
    for (let j = i + 1; j < c.seq; j++) maskData[i * c.seq + j] = -1e9;
  const mask = g.constant(maskData, [c.seq, c.seq], "float32", "causal_mask");

  let x = add(gather(p.get("wte")!, tokens, 0), p.get("wpe")!);
  const heads = (t: Value) => transpose(reshape(t, [B, T, c.heads, dh]), [0, 2, 1, 3]);
  for (let l = 0; l < c.layers; l++) {
    const w = (n: string) => p.get(`h${l}.${n}`)!;
    const h = layerNorm(x, w("ln1.g"), w("ln1.b"));
    const [q, k, v] = split(linear(h, w("attn.w"), w("attn.b")), 2, [d, d, d]).map(heads);
    const scores = add(mul(matmul(q, transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh)), mask);
    const y = matmul(softmax(scores, -1), v);
    const merged = reshape(transpose(y, [0, 2, 1, 3]), [B, T, d]);
    x = add(x, linear(merged, w("proj.w"), w("proj.b")));
    const h2 = layerNorm(x, w("ln2.g"), w("ln2.b"));
    x = add(x, linear(gelu(linear(h2, w("fc.w"), w("fc.b"))), w("fc2.w"), w("fc2.b")));
  }
  x = layerNorm(x, p.get("lnf.g")!, p.get("lnf.b")!);
  const logits = matmul(x, transpose(p.get("wte")!));
  const loss = reduceMean(crossEntropy(logits, targets));
  const names = [...p.keys()];
  const gradValues = grad(loss, [...p.values()]);
  const grads: Record<string, Value> = {};
  names.forEach((n, i) => {
    grads[`grad.${n}`] = gradValues[i];
  });
  return { graph: g, loss, grads };
}
