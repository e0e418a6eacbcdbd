// runInfo: a run's dataset and prompt limit come from its config.json; a model directory's
// config.json (the model's own) is not read as a run's.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { runInfo } from "../../src/serve/run-info.js";

it("reads data and maxPromptTokens from a run, nothing from a model directory", async () => {
  const dir = await mkdtemp(join(tmpdir(), "prefrec-runinfo-"));
  try {
    const run = join(dir, "run");
    await mkdir(join(run, "checkpoints"), { recursive: true });
    await writeFile(
      join(run, "config.json"),
      JSON.stringify({ data: "prepared/x", maxPromptTokens: 384 }),
    );
    assert.deepEqual(await runInfo(run), { dataDir: "prepared/x", maxPromptTokens: 384 });
    const model = join(dir, "model");
    await mkdir(model);
    await writeFile(
      join(model, "config.json"),
      JSON.stringify({ model_type: "llama", data: "nope" }),
    );
    assert.deepEqual(await runInfo(model), { dataDir: null, maxPromptTokens: null });
    // A classic-baseline run nests its options (data included) under `config`.
    const baseline = join(dir, "sasrec");
    await mkdir(join(baseline, "checkpoints"), { recursive: true });
    await writeFile(
      join(baseline, "config.json"),
      JSON.stringify({
        format: "prefrec-baseline-run-1",
        kind: "sasrec",
        config: { kind: "sasrec", data: "prepared/y" },
      }),
    );
    assert.deepEqual(await runInfo(baseline), { dataDir: "prepared/y", maxPromptTokens: null });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
