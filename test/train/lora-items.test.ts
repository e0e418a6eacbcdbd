// Item tokens on a frozen base (LoRA + PEFT trainable token rows) and `itemInit` (LLaRA's
// projection from a SASRec run): what is trained, what is saved, and that later stages and
// the evaluator load it back.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Command } from "@commander-js/extra-typings";
import { parseBaselineConfig } from "../../src/baselines/config.js";
import { registerTrain } from "../../src/cli/train.js";
import { newRunConfig, resumeConfig } from "../../src/cli/train-config.js";
import { loadPrepared } from "../../src/data/index.js";
import { initFromRun, loadRecommender } from "../../src/eval/load.js";
import { Runtime } from "../../src/graph/index.js";
import { readSafetensorsF32, writeSafetensors } from "../../src/io/safetensors.js";
import { loadCheckpoint } from "../../src/model/checkpoint.js";
import { LanguageModel } from "../../src/model/lm.js";
import { mergeLora } from "../../src/model/lora.js";
import { loadLoraAdapter } from "../../src/model/peft.js";
import { growForTokens, mergeTokenRows } from "../../src/model/peft-tokens.js";
import { LmTokenizer } from "../../src/model/tokenizer/tokenizer.js";
import { trainBaseline } from "../../src/train/baselines.js";
import { parseTrainConfig } from "../../src/train/config.js";
import { readItemTable } from "../../src/train/item-init.js";
import { loadStartingPoint } from "../../src/train/setup.js";
import { train } from "../../src/train/trainer.js";
import { tempDir } from "../io/helpers.js";
import { buildTrainFixture } from "./fixture.js";

const runtime = new Runtime({ threads: 1 });

test("LoRA with items: id trains the new token rows beside the factors and saves them as PEFT does", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const base = await loadCheckpoint(fx.model);
  const baseTok = await LmTokenizer.load(fx.model);
  const common = { data: fx.data, batchSize: 4, maxSteps: 2, evalExamples: 4, lr: 1e-2 };
  const run = join(dir, "sft");
  await train(
    parseTrainConfig({
      ...common,
      model: fx.model,
      items: "id",
      lora: { r: 4, alpha: 8, targets: ["q_proj", "v_proj"] },
      objective: { type: "sft" },
    }),
    run,
    { quiet: true, runtime },
  );
  const adapterDir = join(run, "checkpoints", "last", "adapter");
  const json = JSON.parse(await readFile(join(adapterDir, "adapter_config.json"), "utf8"));
  const tok = await LmTokenizer.load(adapterDir); // the tokenizer travels with the adapter
  assert.equal(tok.representation, "id");
  const { firstId, count } = tok.items!;
  const ids = Array.from({ length: count + 1 }, (_, i) => firstId + i);
  // The preset ties its head: one set of rows, under embed_tokens (PEFT saves no tied copy).
  assert.deepEqual(json.trainable_token_indices, { embed_tokens: ids });
  const adapter = await loadLoraAdapter(adapterDir);
  const rows = adapter.tokens!.get("model.embed_tokens")!;
  assert.deepEqual(rows.rows.shape, [count + 1, base.config.hiddenSize]);
  // Trained: the rows moved from their initial (resized) values for items the run saw.
  const grown = growForTokens(base.config, base.weights, adapter.tokens);
  const initial = grown.weights.get("model.embed_tokens.weight")!.data;
  const d = base.config.hiddenSize;
  let moved = 0;
  ids.forEach((id, r) => {
    const a = rows.rows.data.subarray(r * d, (r + 1) * d);
    const b = initial.subarray(id * d, (id + 1) * d);
    if (a.some((x, k) => Math.abs(x - b[k]) > 1e-6)) moved++;
  });
  assert.ok(moved > 0 && moved < ids.length + 1, `${moved} item rows moved`);
  // Everything else frozen: the base directory is the one it was.
  const after = await loadCheckpoint(fx.model);
  assert.deepEqual(
    after.weights.get("model.embed_tokens.weight")!.data,
    base.weights.get("model.embed_tokens.weight")!.data,
  );
  assert.equal(baseTok.vocabSize, firstId);

  // Loading: base + adapter (grown, rows in the graph) equals the rows and factors merged in.
  const loaded = await LanguageModel.load(fx.model, { adapter: adapterDir, runtime });
  const mergedWeights = mergeLora(
    mergeTokenRows(grown.weights, adapter.tokens!, grown.config),
    adapter.weights,
    adapter.config,
  );
  const merged = new LanguageModel(grown.config, mergedWeights, { runtime });
  const probe = [baseTok.bosId ?? 1, firstId, firstId + 3, firstId + count];
  const a = (await loaded.logits(probe)).data as Float32Array;
  const b = (await merged.logits(probe)).data as Float32Array;
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `logit ${i}`);
  const rec = await loadRecommender(run, { runtime });
  assert.equal(rec.tokenizer!.representation, "id");

  // Resume restores the token rows: 1 step + resume to 2 steps = 2 steps.
  const sftConfig = (maxSteps: number) =>
    parseTrainConfig({
      ...common,
      maxSteps,
      model: fx.model,
      items: "id",
      lora: { r: 4, alpha: 8, targets: ["q_proj", "v_proj"] },
      objective: { type: "sft" },
    });
  const resumed = join(dir, "resumed");
  await train(sftConfig(1), resumed, { quiet: true, runtime });
  await train(sftConfig(2), resumed, { quiet: true, runtime, resume: true });
  const again = await loadLoraAdapter(join(resumed, "checkpoints", "last", "adapter"));
  assert.deepEqual(again.tokens!.get("model.embed_tokens")!.rows.data, rows.rows.data);

  // A later LoRA stage continues with the adapter's tokens and rows.
  await train(
    parseTrainConfig({
      ...common,
      ...(await initFromRun(run)),
      objective: { type: "dpo", beta: 1 },
    }),
    join(dir, "dpo"),
    { quiet: true, runtime },
  );
  const dpoDir = join(dir, "dpo", "checkpoints", "last", "adapter");
  assert.equal((await LmTokenizer.load(dpoDir)).representation, "id");
  assert.deepEqual((await loadLoraAdapter(dpoDir)).tokens!.get("model.embed_tokens")!.indices, ids);
});

test("itemInit: item rows start as S·Wᵀ + b from a SASRec run, W and b learn, checkpoints fold them", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const sasrec = join(dir, "sasrec");
  const baseline = parseBaselineConfig({
    kind: "sasrec",
    data: fx.data,
    hidden: 8,
    blocks: 1,
    epochs: 1,
    batchSize: 32,
    patience: 0,
    threads: 1,
  });
  await trainBaseline(baseline, { out: sasrec, quiet: true, runtime });
  const common = {
    data: fx.data,
    model: fx.model,
    items: "id" as const,
    itemInit: sasrec,
    batchSize: 4,
    evalExamples: 0,
    lr: 1e-2,
    objective: { type: "sft" as const },
  };

  // Step 0: rows are S·Wᵀ + b, S the SASRec rows matched by item id (same dataset here).
  const start = await loadStartingPoint(
    parseTrainConfig({ ...common, maxSteps: 1 }),
    join(dir, "s0"),
  );
  const p = start.projection!;
  const table = (
    await readSafetensorsF32(join(sasrec, "checkpoints", "last", "model.safetensors"))
  ).get("item_emb")!.data;
  const { items } = await loadPrepared(fx.data);
  assert.equal(start.itemInit!.missing, 0);
  assert.deepEqual(p.source.shape, [items.length + 1, 8]);
  assert.deepEqual(
    p.source.data.subarray(0, items.length * 8),
    table.subarray(0, items.length * 8),
  );
  const emb = start.weights.get("model.embed_tokens.weight")!.data;
  const d = start.modelConfig.hiddenSize;
  for (const r of [0, 5, items.length]) {
    const id = p.indices[r];
    for (let j = 0; j < d; j++) {
      let expected = p.bias.data[j];
      for (let k = 0; k < 8; k++) expected += p.source.data[r * 8 + k] * p.weight.data[j * 8 + k];
      assert.ok(Math.abs(emb[id * d + j] - expected) < 1e-5, `row ${id}, column ${j}`);
    }
  }
  const W0 = p.weight.data.slice();
  // Matched by item id: an item the SASRec run lacks (and <item_unk>) gets the table's mean row.
  const catalog = [items[2], { ...items[3], id: "not-in-sasrec" }].map((item, i) => ({
    ...item,
    item: i,
  }));
  const mapped = await readItemTable(sasrec, catalog);
  assert.equal(mapped.missing, 1);
  assert.deepEqual(
    mapped.data.subarray(0, 8),
    table.subarray(items[2].item * 8, items[2].item * 8 + 8),
  );
  const mean = Array.from({ length: 8 }, (_, k) => {
    let sum = 0;
    for (let i = 0; i < items.length; i++) sum += table[i * 8 + k];
    return sum / items.length;
  });
  for (const row of [1, 2])
    for (let k = 0; k < 8; k++) assert.ok(Math.abs(mapped.data[row * 8 + k] - mean[k]) < 1e-6);

  // Full fine-tuning, 2 steps: W learned; the saved model's rows are the saved projection's.
  await train(parseTrainConfig({ ...common, maxSteps: 2 }), join(dir, "full"), {
    quiet: true,
    runtime,
  });
  const ckpt = join(dir, "full", "checkpoints", "last");
  const saved = await readSafetensorsF32(join(ckpt, "item_projection.safetensors"));
  const W = saved.get("item_projection.weight")!;
  const b = saved.get("item_projection.bias")!;
  assert.ok(
    W.data.some((x, i) => Math.abs(x - W0[i]) > 1e-6),
    "W was trained",
  );
  const model = await loadCheckpoint(join(ckpt, "model"), { weightsDtype: "float32" });
  const rows = model.weights.get("model.embed_tokens.weight")!.data;
  const r = 3;
  for (let j = 0; j < d; j++) {
    let expected = b.data[j];
    for (let k = 0; k < 8; k++) expected += p.source.data[r * 8 + k] * W.data[j * 8 + k];
    assert.ok(Math.abs(rows[p.indices[r] * d + j] - expected) < 1e-5, `folded column ${j}`);
  }

  // Resuming a run continues its projection exactly: 1 step + resume to 2 = 2 steps.
  await train(parseTrainConfig({ ...common, maxSteps: 1 }), join(dir, "resumed"), {
    quiet: true,
    runtime,
  });
  await train(parseTrainConfig({ ...common, maxSteps: 2 }), join(dir, "resumed"), {
    quiet: true,
    runtime,
    resume: true,
  });
  const again = await readSafetensorsF32(
    join(dir, "resumed", "checkpoints", "last", "item_projection.safetensors"),
  );
  assert.deepEqual(again.get("item_projection.weight")!.data, W.data);

  // LoRA: the projection's rows are saved as the adapter's embed_tokens token rows.
  await train(
    parseTrainConfig({ ...common, maxSteps: 1, lora: { r: 2, alpha: 4, targets: ["q_proj"] } }),
    join(dir, "lora"),
    { quiet: true, runtime },
  );
  const loraCkpt = join(dir, "lora", "checkpoints", "last");
  const adapter = await loadLoraAdapter(join(loraCkpt, "adapter"));
  const lp = await readSafetensorsF32(join(loraCkpt, "item_projection.safetensors"));
  const tokenRows = adapter.tokens!.get("model.embed_tokens")!.rows.data;
  for (let j = 0; j < d; j++) {
    let expected = lp.get("item_projection.bias")!.data[j];
    const Wl = lp.get("item_projection.weight")!.data;
    for (let k = 0; k < 8; k++) expected += p.source.data[r * 8 + k] * Wl[j * 8 + k];
    assert.ok(Math.abs(tokenRows[r * d + j] - expected) < 1e-5, `adapter row column ${j}`);
  }
});

test("itemInit: bad input is one line naming the thing", async (t) => {
  const dir = await tempDir(t);
  const fx = await buildTrainFixture(dir, { users: 40, maxTrain: 16 });
  const common = { data: fx.data, model: fx.model, maxSteps: 1, objective: { type: "sft" } };
  assert.throws(
    () => parseTrainConfig({ ...common, items: "title", itemInit: "x" }),
    /itemInit \(--item-init\) .* needs items: id or hybrid, got title/,
  );
  const setup = (itemInit: string) =>
    loadStartingPoint(parseTrainConfig({ ...common, items: "id", itemInit }), join(dir, "run"));
  await assert.rejects(
    setup(join(dir, "nowhere")),
    /^UserError: --item-init .*nowhere: not a SASRec run/,
  );
  const pop = join(dir, "pop");
  await trainBaseline(parseBaselineConfig({ kind: "pop", data: fx.data }), {
    out: pop,
    quiet: true,
    runtime,
  });
  await assert.rejects(setup(pop), /--item-init .*pop: a pop run, not SASRec/);
  // A SASRec run without a checkpoint (its files missing).
  const empty = join(dir, "empty");
  await mkdir(empty);
  const file = JSON.parse(await readFile(join(pop, "config.json"), "utf8"));
  file.kind = file.config.kind = "sasrec";
  await writeFile(join(empty, "config.json"), JSON.stringify(file));
  await assert.rejects(setup(empty), /--item-init .*empty: .*no checkpoint yet/);
  // An item table of another dimension than the run says.
  const ckpt = join(empty, "checkpoints", "last");
  await mkdir(ckpt, { recursive: true });
  await writeSafetensors(join(ckpt, "model.safetensors"), [
    ["item_emb", { shape: [2, 3], data: new Float32Array(6) }],
  ]);
  await assert.rejects(setup(empty), /--item-init .*empty: .*item_emb has shape \[2,3\], expected/);
  assert.ok(!existsSync(join(dir, "run", "checkpoints")));
});

test("--item-init is one option: flag, config file, help, and fixed on resume", async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, "c.yaml");
  await writeFile(file, "data: D\nmodel: M\nout: R\nitems: hybrid\nitemInit: runs/sasrec\n");
  const fromFile = await newRunConfig("sft", { config: file });
  assert.equal(fromFile.config.itemInit, "runs/sasrec");
  const flagWins = await newRunConfig("sft", { config: file, itemInit: "other" });
  assert.equal(flagWins.config.itemInit, "other");
  await assert.rejects(
    resumeConfig("sft", { resume: dir, itemInit: "x" }),
    /cannot change on resume: --item-init/,
  );
  const program = new Command().exitOverride();
  registerTrain(program);
  const sft = program.commands
    .find((c) => c.name() === "train")!
    .commands.find((c) => c.name() === "sft")!;
  assert.match(sft.helpInformation(), /--item-init <run>/);
});
