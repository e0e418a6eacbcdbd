// TEMPORARY — to be replaced after merging the `eval` branch: its `loadRecommender(dir)`
// (src/eval/load.ts) and `LmRecommender` (src/model/lm-recommender.ts) do exactly this for LM
// runs, model directories and baseline runs. Until then the server loads LMs here: a candidate's
// score is the summed log-likelihood of " " + title + EOS given the prompt (the evaluator's
// ranking protocol, same tokenization code), the prompt run once for all candidates.

import type { Example } from "../data/types.js";
import { Runtime } from "../graph/index.js";
import { UserError } from "../io/errors.js";
import { LanguageModel } from "../model/lm.js";
import { LmTokenizer } from "../model/tokenizer.js";
import type {
  Recommender,
  RecommenderDescription,
  ScoreCandidatesOptions,
} from "../recommender.js";
import { resolveModel } from "../train/init.js";
import { tokenizeExample } from "../train/tokenize.js";

/** The LM as a Recommender (ranking by answer log-likelihood). */
export class ServedLm implements Recommender {
  private readonly cache = new Map<string, number[]>();

  constructor(
    readonly lm: LanguageModel,
    readonly tokenizer: LmTokenizer,
    private readonly name: string,
    readonly maxPromptTokens = 512,
  ) {}

  describe(): RecommenderDescription {
    return { kind: "lm", name: this.name, items: "title", fullCatalog: false, generates: true };
  }

  async scoreCandidates(
    examples: readonly Example[],
    options: ScoreCandidatesOptions = {},
  ): Promise<number[][]> {
    const batchSize = Math.max(1, options.batchSize ?? 8);
    // Answers of /v1/score are arbitrary text: keep the title cache bounded.
    if (this.cache.size > 50_000) this.cache.clear();
    const tokenized = examples.map((e) =>
      tokenizeExample(this.tokenizer, e, { maxPromptTokens: this.maxPromptTokens }, this.cache),
    );
    const rows: number[][] = [];
    for (let start = 0; start < tokenized.length; start += batchSize) {
      const part = tokenized.slice(start, start + batchSize);
      const { logpSum, tokenCount } = await this.lm.score(
        part.map((e) => e.prompt),
        part.map((e) => e.candidates),
        { batchSize },
      );
      logpSum.forEach((sums, j) => {
        rows.push(
          options.variant === "mean" ? sums.map((s, k) => s / Math.max(1, tokenCount[j][k])) : sums,
        );
      });
    }
    return rows;
  }

  async dispose(): Promise<void> {
    await this.lm.runtime.dispose();
  }
}

/** Loads a training run (its best checkpoint) or a model directory as an LM recommender. */
export async function loadServedLm(
  target: string,
  options: { provider?: "cpu" | "cuda"; threads?: number; maxPromptTokens?: number } = {},
): Promise<ServedLm> {
  let resolved: Awaited<ReturnType<typeof resolveModel>>;
  try {
    resolved = await resolveModel(target, "best");
  } catch (error) {
    throw new UserError((error as Error).message);
  }
  const runtime = new Runtime({ provider: options.provider, threads: options.threads });
  const lm = await LanguageModel.load(resolved.modelDir, {
    adapter: resolved.adapterDir ?? undefined,
    runtime,
  });
  const tokenizer = await LmTokenizer.load(resolved.tokenizerDir);
  return new ServedLm(lm, tokenizer, target, options.maxPromptTokens ?? 512);
}
