// Frozen weights: 16-bit bits cast where used (forward and, separately, backward), held in
// memory or mapped from a file at an offset, and the errors of misuse.

import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { test } from "node:test";
import * as G from "../../src/graph/index.js";
import { decodeBF16, numberToBF16Bits } from "../../src/io/float16.js";
import { tempDir } from "../io/helpers.js";
import { randomArray, rng } from "./gradcheck.js";

const runtime = new G.Runtime({ threads: 1 });
const OUT = 6;
const IN = 5;

/** y = x·Wᵀ and d(Σy²)/dx, with W bound by `bindW`. */
function program(bindW: (g: G.Graph) => G.Value) {
  const g = new G.Graph("frozen");
  const x = g.input("x", "float32", ["b", IN]);
  const y = G.matmul(x, G.transpose(bindW(g)));
  const [gx] = G.grad(G.reduceSum(G.mul(y, y)), [x]);
  return { graph: g, outputs: { y, gx } };
}

const rand = rng(11);
const bits = Uint16Array.from(
  randomArray(rand, OUT * IN, "float32") as Float32Array,
  numberToBF16Bits,
);
const values = new Float32Array(bits.length);
decodeBF16(bits, values);
const x = { data: randomArray(rand, 3 * IN, "float32") as Float32Array, shape: [3, IN] };

async function run(p: ReturnType<typeof program>) {
  const compiled = await runtime.compile(p.graph, p.outputs);
  return compiled.run({ x });
}

test("a BF16 frozen weight gives the float32 input's outputs and gradients", async () => {
  const viaBits = await run(program((g) => g.frozen("W", bits, [OUT, IN], "bfloat16")));
  const viaF32 = await run(program((g) => g.frozen("W", values, [OUT, IN])));
  const asInput = program((g) => g.input("W", "float32", [OUT, IN]));
  const compiled = await runtime.compile(asInput.graph, asInput.outputs);
  const viaInput = await compiled.run({ x, W: values });
  for (const out of ["y", "gx"]) {
    assert.deepEqual(viaBits[out].data, viaInput[out].data, out);
    assert.deepEqual(viaF32[out].data, viaInput[out].data, out);
  }
});

test("the backward pass casts its own copy; the weight is an initializer listed as an input", () => {
  const p = program((g) => g.frozen("W", bits, [OUT, IN], "bfloat16"));
  const { model } = G.lowerGraph(p.graph, p.outputs);
  const graph = model.graph!;
  assert.ok(graph.initializer!.some((t) => t.name === "W" && t.dataType === 16));
  assert.ok(graph.input!.some((i) => i.name === "W"));
  const produced = new Map(graph.node!.flatMap((n) => n.output!.map((o) => [o, n])));
  // Casts whose input is W itself or a reshape of W.
  const castsOfW = graph.node!.filter((n) => {
    if (n.opType !== "Cast") return false;
    const src = n.input![0];
    return (
      src === "W" ||
      (produced.get(src)?.opType === "Reshape" && produced.get(src)!.input![0] === "W")
    );
  });
  assert.equal(castsOfW.length, 2);
});

test("a BF16 weight mapped from a file at an offset equals the one in memory", async (t) => {
  const dir = await tempDir(t);
  const bytes = new Uint8Array(1000 + bits.byteLength);
  bytes.set(new Uint8Array(bits.buffer), 1000);
  await writeFile(`${dir}/weights.bin`, bytes);
  const slice = { folder: dir, file: "weights.bin", offset: 1000, length: bits.byteLength };
  const fromFile = await run(program((g) => g.frozen("W", slice, [OUT, IN], "bfloat16")));
  const inMemory = await run(program((g) => g.frozen("W", bits, [OUT, IN], "bfloat16")));
  assert.deepEqual(fromFile.y.data, inMemory.y.data);
  assert.deepEqual(fromFile.gx.data, inMemory.gx.data);
});

test("misused frozen weights are build-time errors", () => {
  const g = new G.Graph();
  assert.throws(() => g.frozen("a", bits, [OUT, IN]), /16-bit data needs its stored dtype/);
  assert.throws(() => g.frozen("b", values, [OUT, IN], "bfloat16"), /needs 16-bit data/);
  assert.throws(() => g.frozen("c", bits, [OUT, OUT]), G.GraphError);
  const a = g.frozen("d", { folder: "/one", file: "a", offset: 0, length: 4 }, [2], "float16");
  const b = g.frozen("e", { folder: "/two", file: "b", offset: 0, length: 4 }, [2], "float16");
  assert.throws(
    () => G.lowerGraph(g, { s: G.add(a, b) }),
    /is in \/two, another graph weight in \/one/,
  );
});
