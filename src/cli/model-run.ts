// `prefrec model logits|score|generate|merge`: run a model directory (+ optional PEFT adapter).
// The JSON outputs are a stable interface used by other tools; keep their shapes.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type CommandUnknownOpts, InvalidArgumentError } from "@commander-js/extra-typings";
import { type Provider, Runtime } from "../graph/index.js";
import { weightsDtypeSchema } from "../graph/options.js";
import { loadCheckpoint, saveCheckpoint } from "../model/checkpoint.js";
import { LanguageModel } from "../model/lm.js";
import { mergeLora } from "../model/lora.js";
import { loadLoraAdapter, validateLoraForModel } from "../model/peft.js";
import { growForTokens, mergeTokenRows, tokenRowsProblem } from "../model/peft-tokens.js";
import { answerTokens, promptTokens } from "../model/tokenizer/tokenize.js";
import { LmTokenizer } from "../model/tokenizer/tokenizer.js";
import { integerAtLeast } from "./args.js";
import { CliError } from "./errors.js";
import { providerOption, weightsDtypeOption } from "./options.js";

const positive = integerAtLeast(1);

function parseIds(value: string): number[] {
  const ids = value.split(",").map((s) => Number(s.trim()));
  if (ids.length === 0 || ids.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new InvalidArgumentError(`expected comma-separated token ids, got "${value}"`);
  }
  return ids;
}

async function openModel(
  dir: string,
  adapter: string | undefined,
  provider: unknown,
  weightsDtype: unknown,
) {
  return LanguageModel.load(dir, {
    adapter,
    runtime: new Runtime({ provider: (provider as Provider | undefined) ?? "cpu" }),
    weightsDtype: weightsDtypeSchema.parse(weightsDtype),
  });
}

/** The tokenizer of a model run with an adapter: the adapter's own (item tokens), else the model's. */
function tokenizerOf(dir: string, adapter: string | undefined): string | undefined {
  return [adapter, dir].find((d) => d && existsSync(join(d, "tokenizer.json")));
}

function checkIds(model: LanguageModel, ids: readonly number[], what: string): void {
  const bad = ids.find((id) => id >= model.config.vocabSize);
  if (bad !== undefined) {
    throw new CliError(
      `${what}: token id ${bad} is outside the vocabulary (size ${model.config.vocabSize})`,
    );
  }
}

/** Registers `logits`, `score` and `generate` under `prefrec model`. */
export function registerModelRun(group: CommandUnknownOpts): void {
  group
    .command("logits")
    .description("Print the logits [T, V] of a token sequence (needs no tokenizer with --ids)")
    .argument("<dir>", "model directory")
    .option("--ids <list>", "comma-separated token ids", parseIds)
    .option("--text <text>", "text to tokenize with the directory's tokenizer (instead of --ids)")
    .option("--adapter <dir>", "PEFT LoRA adapter directory")
    .addOption(providerOption())
    .addOption(weightsDtypeOption())
    .option("--json", 'print {"shape":[T,V],"logits":[[...],...]}')
    .action(async (dir, opts) => {
      if ((opts.ids === undefined) === (opts.text === undefined)) {
        throw new CliError("give exactly one of --ids or --text");
      }
      const model = await openModel(dir, opts.adapter, opts.provider, opts.weightsDtype);
      const ids =
        opts.ids ??
        (await LmTokenizer.load(tokenizerOf(dir, opts.adapter) ?? dir)).encode(opts.text!, {
          addSpecialTokens: true,
        });
      checkIds(model, ids, "--ids");
      const { data, shape } = await model.logits(ids);
      const [T, V] = shape;
      const rows = Array.from({ length: T }, (_, t) =>
        Array.from((data as Float32Array).subarray(t * V, (t + 1) * V)),
      );
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ shape: [T, V], logits: rows })}\n`);
      } else {
        rows.forEach((row, t) => {
          const top = row
            .map((v, id) => [id, v] as const)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 5)
            .map(([id, v]) => `${id}:${v.toFixed(3)}`);
          process.stdout.write(`${t}\ttoken ${ids[t]}\ttop ${top.join(" ")}\n`);
        });
      }
    });

  group
    .command("score")
    .description("Summed log-prob of each completion given the prompt (prompt run once for all)")
    .argument("<dir>", "model directory (with its tokenizer)")
    .requiredOption("--prompt <text>", "prompt text (BOS + text, as in training)")
    .requiredOption(
      "--completion <title...>",
      'one or more answers (item titles), each scored as " " + title + EOS, as in training',
    )
    .option("--no-eos", "leave the EOS off each answer (appended by default, as in training)")
    .option("--max-prompt-tokens <n>", "longer prompts keep their end", positive, 512)
    .option("--adapter <dir>", "PEFT LoRA adapter directory")
    .addOption(providerOption())
    .addOption(weightsDtypeOption())
    .option("--json", 'print {"completions":[{"text","logp","tokens","mean_logp"}]}')
    .action(async (dir, opts) => {
      const model = await openModel(dir, opts.adapter, opts.provider, opts.weightsDtype);
      const tokenizer = await LmTokenizer.load(tokenizerOf(dir, opts.adapter) ?? dir);
      // The same prompt/answer format as training and `prefrec eval` (model/tokenizer/tokenize.ts).
      const prompt = promptTokens(tokenizer, opts.prompt, opts.maxPromptTokens);
      const completions = opts.completion.map((title) =>
        answerTokens(tokenizer, title, { eos: opts.eos }),
      );
      const result = await model.score([prompt], [completions]);
      const rows = opts.completion.map((text, k) => ({
        text,
        logp: result.logpSum[0][k],
        tokens: result.tokenCount[0][k],
        mean_logp: result.tokenCount[0][k] > 0 ? result.logpSum[0][k] / result.tokenCount[0][k] : 0,
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify({ completions: rows })}\n`);
      else
        for (const r of rows)
          process.stdout.write(`${r.logp.toFixed(4)}\t${r.tokens}\t${r.text}\n`);
    });

  group
    .command("generate")
    .description(
      "Greedy generation (KV cache); with --candidates-file, constrained to one candidate",
    )
    .argument("<dir>", "model directory (with its tokenizer)")
    .requiredOption("--prompt <text>", "prompt text (BOS + text, as in training)")
    .option(
      "--candidates-file <file>",
      "allowed answers (item titles), one per line: the output is exactly one of them",
    )
    .option("--max-prompt-tokens <n>", "longer prompts keep their end", positive, 512)
    .option("--max-new-tokens <n>", "token limit for free generation", positive, 20)
    .option("--adapter <dir>", "PEFT LoRA adapter directory")
    .addOption(providerOption())
    .addOption(weightsDtypeOption())
    .option("--json", 'print {"text","tokens","stop","candidate"}')
    .action(async (dir, opts) => {
      const model = await openModel(dir, opts.adapter, opts.provider, opts.weightsDtype);
      const tokenizer = await LmTokenizer.load(tokenizerOf(dir, opts.adapter) ?? dir);
      const prompt = promptTokens(tokenizer, opts.prompt, opts.maxPromptTokens);
      let candidates: string[] | undefined;
      if (opts.candidatesFile) {
        candidates = (await readFile(opts.candidatesFile, "utf8"))
          .split(/\r?\n/)
          .filter((l) => l.trim() !== "");
        if (candidates.length === 0)
          throw new CliError(`${opts.candidatesFile}: no candidates (one per line)`);
      }
      const [g] = await model.generate([prompt], {
        maxNewTokens: opts.maxNewTokens,
        // Answers as in training, without EOS: the candidate trie appends it.
        candidates: candidates
          ? [candidates.map((c) => answerTokens(tokenizer, c, { eos: false }))]
          : undefined,
      });
      // Answers start with the space that follows "Answer:" in the prompt.
      const text = tokenizer.decode(g.tokens, { skipSpecialTokens: true }).trim();
      const candidate = g.candidate === undefined ? null : candidates![g.candidate];
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ text, tokens: g.tokens, stop: g.stop, candidate })}\n`,
        );
      } else {
        process.stdout.write(`${text}\n`);
      }
    });
}

/** Registers `merge`: writes base + scaling·B·A as a plain model directory. */
export function registerModelMerge(group: CommandUnknownOpts): void {
  group
    .command("merge")
    .description("Merge a PEFT LoRA adapter into its base model and write a plain model directory")
    .argument("<dir>", "base model directory")
    .requiredOption("--adapter <dir>", "PEFT LoRA adapter directory")
    .requiredOption("--out <dir>", "output model directory (written atomically)")
    .option("--force", "replace a non-empty output directory", false)
    .action(async (dir, opts) => {
      const loaded = await loadCheckpoint(dir);
      const adapter = await loadLoraAdapter(opts.adapter);
      // Token rows (item tokens) past the base's vocabulary: grow it, write the rows in.
      const { config, weights } = growForTokens(loaded.config, loaded.weights, adapter.tokens);
      validateLoraForModel(adapter.weights, config, opts.adapter);
      const problem = adapter.tokens && tokenRowsProblem(adapter.tokens, config);
      if (problem) throw new CliError(`${opts.adapter}: ${problem}`);
      const withRows = adapter.tokens ? mergeTokenRows(weights, adapter.tokens, config) : weights;
      const merged = mergeLora(withRows, adapter.weights, adapter.config);
      const tokenizerDir = tokenizerOf(dir, opts.adapter);
      await saveCheckpoint(
        opts.out,
        { config, weights: merged },
        { tokenizerDir, overwrite: opts.force },
      );
      const rows = adapter.tokens
        ? `, ${[...adapter.tokens.values()][0].indices.length} token rows`
        : "";
      process.stdout.write(
        `wrote ${opts.out}: ${adapter.weights.size} adapted modules merged${rows}\n`,
      );
    });
}
