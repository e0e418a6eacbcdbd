// Option declarations built from the schemas: every count option of every command rejects
// 0/negative/non-integer values naming the option, help shows each default once, required
// options are marked, and `model init --preset` lists its choices.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerData } from "../../src/cli/data.js";
import { registerEval } from "../../src/cli/eval.js";
import { registerModel } from "../../src/cli/model.js";
import { markRequired } from "../../src/cli/options.js";
import { registerTokenizer } from "../../src/cli/tokenizer.js";
import { registerTrain } from "../../src/cli/train.js";

function program(): Command {
  const p = new Command()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerData(p);
  registerTokenizer(p);
  registerModel(p);
  registerTrain(p);
  registerEval(p);
  markRequired(p);
  return p;
}

/** The message commander gives for `args`, which must fail before any work starts. */
async function failure(args: string[]): Promise<string> {
  try {
    await program().parseAsync(["node", "prefrec", ...args]);
  } catch (error) {
    assert.ok(error instanceof CommanderError, `${args.join(" ")}: ${error}`);
    return error.message;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

function help(path: string[]): string {
  let command: Command = program() as unknown as Command;
  for (const name of path) command = command.commands.find((c) => c.name() === name) as Command;
  return command.helpInformation();
}

describe("count options", () => {
  const cases: [string[], string, string][] = [
    [["train", "sft", "--batch-size", "0"], "--batch-size", "≥ 1"],
    [["train", "sdpo", "--max-steps", "-1"], "--max-steps", "≥ 1"],
    [["train", "sft", "--grad-accum", "1.5"], "--grad-accum", "≥ 1"],
    [["train", "sdpo", "--negatives", "0"], "--negatives", "≥ 1"],
    [["train", "sft", "--threads", "0"], "--threads", "≥ 1"],
    [["train", "sft", "--max-prompt-tokens", "many"], "--max-prompt-tokens", "expected a number"],
    [["train", "sft", "--eval-every", "-1"], "--eval-every", "≥ 0"],
    [["eval", "run", "--data", "d", "--batch-size", "0"], "--batch-size", "≥ 1"],
    [["eval", "run", "--data", "d", "--max-examples", "0"], "--max-examples", "≥ 1"],
    [["eval", "run", "--data", "d", "--max-new-tokens", "0"], "--max-new-tokens", "≥ 1"],
    [["eval", "run", "--data", "d", "--threads", "-2"], "--threads", "≥ 1"],
    [["data", "synth", "--out", "w", "--users", "0"], "--users", "≥ 1"],
    [["data", "synth", "--out", "w", "--items", "2.5"], "--items", "≥ 1"],
    [
      ["data", "prepare", "--source", "synth", "--path", "p", "--out", "o", "--max-train", "0"],
      "--max-train",
      "≥ 1",
    ],
    [
      ["data", "prepare", "--source", "synth", "--path", "p", "--out", "o", "--candidates", "1"],
      "--candidates",
      "≥ 2",
    ],
    [
      ["data", "prepare", "--source", "synth", "--path", "p", "--out", "o", "--history", "0"],
      "--history",
      "≥ 1",
    ],
    [
      ["model", "generate", "m", "--prompt", "x", "--max-new-tokens", "0"],
      "--max-new-tokens",
      "≥ 1",
    ],
    [
      [
        "tokenizer",
        "train",
        "--corpus",
        "c",
        "--vocab-size",
        "300",
        "--out",
        "o",
        "--min-frequency",
        "0",
      ],
      "--min-frequency",
      "≥ 1",
    ],
  ];
  for (const [args, option, expected] of cases) {
    it(`${args.slice(0, 2).join(" ")} ${option} ${args.at(-1)}`, async () => {
      const message = await failure(args);
      assert.ok(message.includes(`'${option} <`), message);
      assert.ok(message.includes(expected), message);
    });
  }
});

describe("help", () => {
  it("eval --help prints each default once", () => {
    const text = help(["eval"]);
    assert.equal(text.match(/512/g)?.length, 1, text);
    assert.match(text, /--batch-size <n>\s+prompts per batch \(default: 8\)/);
    assert.match(text, /--data <dir>\s+prepared dataset directory \(required\)/);
  });
  it("model init --preset lists its choices; required options are marked", () => {
    const text = help(["model", "init"]);
    assert.match(text, /--preset <name>\s+model size \(choices: "tiny", "small", "base"/);
    assert.match(text.replace(/\s+/g, " "), /--tokenizer <dir> .*\(required\)/);
    const prepare = help(["data", "prepare"]).replace(/\s+/g, " ");
    for (const flag of ["--source <name>", "--path <path>", "--out <dir>"])
      assert.match(prepare, new RegExp(`${flag} [^-]*\\(required\\)`));
  });
  it("train <objective> shows only its own parameters, with their defaults", () => {
    const sdpo = help(["train", "sdpo"]);
    assert.match(sdpo, /--negatives <n>\s+negatives per example.*\(default: 3\)/s);
    assert.doesNotMatch(sdpo, /--lambda|--tau|--gamma/);
    assert.match(help(["train", "ipo"]), /--tau <x>\s+IPO regularization τ \(default: 0\.1\)/);
  });
});
