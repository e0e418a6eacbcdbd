// The executable's launch decision: which command lines re-execute with the malloc setting.
import assert from "node:assert/strict";
import { test } from "node:test";
import { commandOf, launchInChild, MODEL_COMMANDS } from "../../src/cli/launch.js";

test("the command is the first argument that is not an option", () => {
  assert.equal(commandOf(["--debug", "train", "sft", "--config", "x.yaml"]), "train");
  assert.equal(commandOf(["model", "score", "DIR"]), "model");
  assert.equal(commandOf(["--version"]), undefined);
  assert.equal(commandOf([]), undefined);
});

test("commands that run models re-execute; data, tokenizer, report and doctor do not", () => {
  for (const c of ["model", "train", "eval", "experiment", "demo", "serve"])
    assert.ok(MODEL_COMMANDS.has(c), c);
  for (const c of ["data", "tokenizer", "report", "doctor", "help"])
    assert.ok(!MODEL_COMMANDS.has(c), c);
});

test("a command line that runs no model stays in this process", () => {
  assert.equal(launchInChild(["node", "prefrec", "data", "synth", "--out", "x"]), false);
  assert.equal(launchInChild(["node", "prefrec", "--help"]), false);
});
