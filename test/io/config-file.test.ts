// The settings-file reader: YAML and JSON to objects; errors name file, line and column.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseConfigText, readConfigFile } from "../../src/io/config-file.js";
import { UserError } from "../../src/io/errors.js";

test("YAML and JSON settings become the same object; an empty file is no settings", () => {
  const yaml = parseConfigText("lr: 0.001\nlora: null\ntargets: [q, v]\n", "a.yaml");
  const json = parseConfigText('{"lr": 0.001, "lora": null, "targets": ["q", "v"]}', "a.json");
  assert.deepEqual(yaml, { lr: 0.001, lora: null, targets: ["q", "v"] });
  assert.deepEqual(json, yaml);
  assert.deepEqual(parseConfigText("# only a comment\n", "c.yaml"), {});
});

test("errors name the file and the line and column of the mistake", () => {
  assert.throws(
    () => parseConfigText("lr: 0.1\nbatchSize: [4\n", "bad.yaml"),
    (e: unknown) => e instanceof UserError && /^bad\.yaml:\d+:\d+: not valid YAML/.test(e.message),
  );
  assert.throws(
    () => parseConfigText("a: 1\na: 2\n", "dup.yaml"),
    (e: unknown) => e instanceof UserError && /^dup\.yaml:2:1: not valid YAML/.test(e.message),
  );
  assert.throws(
    () => parseConfigText('{\n  "lr": 0.1,\n  "x": ]\n}', "bad.json"),
    (e: unknown) => e instanceof UserError && /^bad\.json:3:\d+: not valid JSON/.test(e.message),
  );
  assert.throws(
    () => parseConfigText("- a\n- b\n", "list.yaml"),
    /list\.yaml: expected a mapping of settings \(key: value\), got a list/,
  );
});

test("a missing file is one line naming it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "prefrec-config-"));
  await assert.rejects(readConfigFile(join(dir, "none.yaml")), /none\.yaml: no such file/);
  await writeFile(join(dir, "ok.yml"), "seed: 3\n");
  assert.deepEqual(await readConfigFile(join(dir, "ok.yml")), { seed: 3 });
});
