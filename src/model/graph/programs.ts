// The model's graph programs: full forward (logits, keys/values), one decode step with a KV
// cache, and shared-prefix completion log-probs (the primitive of every objective and of ranking).

import {
  add,
  and,
  causalMask,
  concat,
  crossEntropy,
  type Dim,
  expand,
  Graph,
  gatherElements,
  greater,
  matmul,
  neg,
  reduceSum,
  reshape,
  slice,
  softmax,
  split,
  squeeze,
  unsqueeze,
  type Value,
  where,
} from "../../graph/index.js";
import type { LmConfig } from "../config.js";
import type { Weights } from "../weights.js";
import { attend, decoderStack, embed, lmHead, MASKED, scores } from "./decoder.js";
import { type BindOptions, type BoundModel, bindModel } from "./params.js";

/** A built program: its graph, the bound model (feeds, trainables) and named outputs. */
export interface Program {
  graph: Graph;
  model: BoundModel;
  outputs: Record<string, Value>;
  /** The shared-prefix program's prompt hidden states [B, Tp, D] (for a loss on prompt tokens). */
  promptHidden?: Value;
}

/** 0 where `valid`, MASKED elsewhere, in the model's dtype. */
function maskBias(m: BoundModel, valid: Value): Value {
  const zero = m.graph.constant(0, [], m.dtype);
  return where(valid, zero, MASKED);
}

const isValid = (mask: Value): Value => greater(mask, 0.5);

/**
 * Full forward over ids [B, T] with positions [B, T] and a 0/1 padding mask [B, T] (left or right
 * padding). Outputs `logits` [B, T, V] and, with `keyValues`, each layer's `key.l`/`value.l`
 * [B, Hkv, T, dh] for a KV cache.
 */
export function forwardProgram(
  config: LmConfig,
  weights: Weights,
  options: BindOptions & { keyValues?: boolean; lastOnly?: boolean } = {},
): Program {
  const g = new Graph("forward");
  const m = bindModel(g, config, weights, options);
  const ids = g.input("ids", "int64", ["B", "T"]);
  const positions = g.input("positions", "int64", ["B", "T"]);
  const mask = g.input("mask", m.dtype, ["B", "T"]);
  // [T, T] causal & [B, 1, 1, 1, T] key padding → [B, 1, 1, T, T]
  const keyValid = reshape(isValid(mask), ["B", 1, 1, 1, "T"]);
  const bias = maskBias(m, and(causalMask(g, "T"), keyValid));
  const { hidden, keys, values } = decoderStack(m, embed(m, ids), positions, ({ q, k, v }) =>
    attend(scores(q, k, config.headDim, m.recomputeAttention), bias, v),
  );
  const outputs: Record<string, Value> = {};
  if (options.lastOnly) {
    outputs.logits = lmHead(m, slice(hidden, 1, "T-1", "T"));
  } else {
    outputs.logits = lmHead(m, hidden);
  }
  if (options.keyValues) {
    keys.forEach((k, l) => {
      outputs[`key.${l}`] = squeeze(k, [2]);
      outputs[`value.${l}`] = squeeze(values[l], [2]);
    });
  }
  return { graph: g, model: m, outputs };
}

/**
 * One decoding step: ids [B, 1] at positions [B, 1] attend to a cache of P earlier keys/values
 * (`past_key.l`, `past_value.l` [B, Hkv, P, dh], validity `past_mask` [B, P]) and to themselves.
 * Outputs `logits` [B, V] and the grown cache `key.l`/`value.l` [B, Hkv, P+1, dh].
 */
export function decodeStepProgram(
  config: LmConfig,
  weights: Weights,
  options: BindOptions = {},
): Program {
  const g = new Graph("decode");
  const m = bindModel(g, config, weights, options);
  const ids = g.input("ids", "int64", ["B", 1]);
  const positions = g.input("positions", "int64", ["B", 1]);
  const pastMask = g.input("past_mask", m.dtype, ["B", "P"]);
  const kvShape: Dim[] = ["B", config.numKvHeads, "P", config.headDim];
  const pastKeys = Array.from({ length: config.numLayers }, (_, l) =>
    g.input(`past_key.${l}`, m.dtype, kvShape),
  );
  const pastValues = Array.from({ length: config.numLayers }, (_, l) =>
    g.input(`past_value.${l}`, m.dtype, kvShape),
  );
  const self = g.constant(new Uint8Array([1]), [1, 1], "bool");
  const keyValid = reshape(concat([isValid(pastMask), expand(self, ["B", 1])], 1), [
    "B",
    1,
    1,
    1,
    "P+1",
  ]);
  const bias = maskBias(m, keyValid);
  const outputs: Record<string, Value> = {};
  const { hidden } = decoderStack(m, embed(m, ids), positions, ({ layer, q, k, v }) => {
    const keys = concat([unsqueeze(pastKeys[layer], [2]), k], 3);
    const vals = concat([unsqueeze(pastValues[layer], [2]), v], 3);
    outputs[`key.${layer}`] = squeeze(keys, [2]);
    outputs[`value.${layer}`] = squeeze(vals, [2]);
    return attend(scores(q, keys, config.headDim, m.recomputeAttention), bias, vals);
  });
  outputs.logits = squeeze(lmHead(m, hidden), [1]);
  return { graph: g, model: m, outputs };
}

/**
 * Log-probabilities of N completions per prompt, the prompt run through the network once.
 * Inputs: `prompt_ids`/`prompt_positions`/`prompt_mask` [B, Tp] (either padding side),
 * `prompt_last` [B] (index of each prompt's last real token), and `completion_ids`/
 * `completion_positions`/`completion_mask` [B, N, Tc] (right-padded). Completion tokens attend
 * to their prompt's keys/values and causally to their own earlier tokens.
 * Outputs `logp_sum` and `token_count` [B, N], and `token_logp` [B, N, Tc] (0 at padding).
 */
export function sharedPrefixProgram(
  config: LmConfig,
  weights: Weights,
  options: BindOptions = {},
): Program {
  const g = new Graph("shared_prefix");
  const m = bindModel(g, config, weights, options);
  const c = config;
  const dh = c.headDim;
  const hkv = c.numKvHeads;
  const groups = c.numHeads / c.numKvHeads;
  const promptIds = g.input("prompt_ids", "int64", ["B", "Tp"]);
  const promptPositions = g.input("prompt_positions", "int64", ["B", "Tp"]);
  const promptMask = g.input("prompt_mask", m.dtype, ["B", "Tp"]);
  const promptLast = g.input("prompt_last", "int64", ["B"]);
  const completionIds = g.input("completion_ids", "int64", ["B", "N", "Tc"]);
  const completionPositions = g.input("completion_positions", "int64", ["B", "N", "Tc"]);
  const completionMask = g.input("completion_mask", m.dtype, ["B", "N", "Tc"]);

  // 1. The prompt, once: causal + padding mask, keys/values kept per layer.
  const promptKeyValid = reshape(isValid(promptMask), ["B", 1, 1, 1, "Tp"]);
  const promptBias = maskBias(m, and(causalMask(g, "Tp"), promptKeyValid));
  const prompt = decoderStack(m, embed(m, promptIds), promptPositions, ({ q, k, v }) =>
    attend(scores(q, k, dh, m.recomputeAttention), promptBias, v),
  );

  // 2. All completions as one [B, N·Tc] sequence; attention split into prompt keys and own keys.
  const S: Dim = "N*Tc";
  const flatIds = reshape(completionIds, ["B", S]);
  const flatPositions = reshape(completionPositions, ["B", S]);
  // Bias on prompt keys: [B, 1, 1, 1, 1, Tp]; on own keys: causal & padding [B, 1, 1, N, Tc, Tc].
  const toPromptBias = maskBias(m, reshape(isValid(promptMask), ["B", 1, 1, 1, 1, "Tp"]));
  const ownValid = reshape(isValid(completionMask), ["B", 1, 1, "N", 1, "Tc"]);
  const ownBias = maskBias(m, and(causalMask(g, "Tc"), ownValid));
  const completions = decoderStack(m, embed(m, flatIds), flatPositions, ({ layer, q, k, v }) => {
    const q6 = reshape(q, ["B", hkv, groups, "N", "Tc", dh]);
    const k6 = reshape(k, ["B", hkv, 1, "N", "Tc", dh]);
    const v6 = reshape(v, ["B", hkv, 1, "N", "Tc", dh]);
    const onPrompt = reshape(scores(q, prompt.keys[layer], dh, m.recomputeAttention), [
      "B",
      hkv,
      groups,
      "N",
      "Tc",
      "Tp",
    ]);
    const onOwn = scores(q6, k6, dh, m.recomputeAttention);
    const all = concat([onPrompt, onOwn], -1); // [B, Hkv, G, N, Tc, Tp+Tc]
    const bias = concat(
      [
        expand(toPromptBias, ["B", 1, 1, "N", "Tc", "Tp"]),
        expand(ownBias, ["B", 1, 1, "N", "Tc", "Tc"]),
      ],
      -1,
    );
    const weights = softmax(add(all, bias), -1);
    const [wPrompt, wOwn] = split(weights, -1, ["Tp", "Tc"]);
    const fromPrompt = matmul(reshape(wPrompt, ["B", hkv, groups, S, "Tp"]), prompt.values[layer]);
    const fromOwn = reshape(matmul(wOwn, v6), ["B", hkv, groups, S, dh]);
    return add(fromPrompt, fromOwn);
  });

  // 3. Token j of a completion is predicted from position j−1, token 0 from the prompt's last.
  const D = c.hiddenSize;
  const lastIndex = expand(reshape(promptLast, ["B", 1, 1]), ["B", 1, D]);
  const promptLastHidden = gatherElements(prompt.hidden, lastIndex, 1); // [B, 1, D]
  const ownHidden = reshape(completions.hidden, ["B", "N", "Tc", D]);
  const predictors = concat(
    [expand(unsqueeze(promptLastHidden, [1]), ["B", "N", 1, D]), slice(ownHidden, 2, 0, "Tc-1")],
    2,
  );
  const logits = lmHead(m, predictors); // [B, N, Tc, V]
  const valid = isValid(completionMask);
  const targets = where(valid, completionIds, g.constant(-100, [], "int64"));
  const tokenLogp = neg(crossEntropy(logits, targets, -100));
  return {
    graph: g,
    model: m,
    promptHidden: prompt.hidden,
    outputs: {
      logp_sum: reduceSum(tokenLogp, [2]),
      token_count: reduceSum(completionMask, [2]),
      token_logp: tokenLogp,
    },
  };
}
