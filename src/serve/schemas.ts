// The request and response schemas: one zod definition gives validation, TypeScript types and
// the OpenAPI document. Limits (history and candidate lengths) are part of the schema so a
// request over them is a 400 naming the field, like any other validation error.

import { z } from "@hono/zod-openapi";

/** Request limits (CLI options). */
export interface Limits {
  maxHistory: number;
  maxCandidates: number;
  maxK: number;
}

export const DEFAULT_LIMITS: Limits = { maxHistory: 200, maxCandidates: 1000, maxK: 1000 };

// Bounds keep every number a model or a prompt might see finite and small enough to print.
const itemId = z
  .union([z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(256)], {
    // A number no branch accepts (1e400 parses as Infinity) would otherwise read "Invalid input".
    error: "expected a dense id (a whole number ≥ 0) or a source id (a string)",
  })
  .openapi({ description: "dense item id (line of items.jsonl) or the source's item id" });

/** An item named by id or title (exactly one of them). */
export const ItemRefSchema = z
  .object({
    item: itemId.optional(),
    title: z.string().min(1).max(1000).optional(),
  })
  .strict()
  .refine((v) => (v.item === undefined) !== (v.title === undefined), {
    message: "give exactly one of item or title",
  })
  .openapi("ItemRef");

const HistoryEntrySchema = z
  .object({
    item: itemId.optional(),
    title: z.string().min(1).max(1000).optional(),
    rating: z.number().min(-1e6).max(1e6).optional(),
    time: z.number().int().min(-1e13).max(1e13).optional().openapi({ description: "Unix seconds" }),
  })
  .strict()
  .refine((v) => (v.item === undefined) !== (v.title === undefined), {
    message: "give exactly one of item or title",
  })
  .openapi("HistoryEntry");

const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      path: z
        .string()
        .optional()
        .openapi({ description: "the offending field, e.g. history[2].rating" }),
    }),
  })
  .openapi("Error");

const WarningSchema = z.object({ path: z.string(), message: z.string() }).openapi("Warning");

/** Duplicate entries of a list of item refs, as zod issues on the later duplicate. */
function noDuplicates(
  list: readonly { item?: number | string; title?: string }[],
  ctx: z.RefinementCtx,
  field: string,
) {
  const seen = new Map<string, number>();
  list.forEach((c, i) => {
    const key = c.item !== undefined ? `item:${c.item}` : `title:${c.title}`;
    const first = seen.get(key);
    if (first !== undefined)
      ctx.addIssue({ code: "custom", path: [field, i], message: `duplicates ${field}[${first}]` });
    else seen.set(key, i);
  });
}

/** POST /v1/recommend request. */
export function recommendRequest(limits: Limits) {
  return z
    .object({
      history: z
        .array(HistoryEntrySchema)
        .min(1)
        .max(limits.maxHistory)
        .openapi({ description: "most recent last" }),
      candidates: z.array(ItemRefSchema).min(1).max(limits.maxCandidates).optional().openapi({
        description:
          "items to rank; omitted: the whole catalog (models with full-catalog scoring only)",
      }),
      k: z
        .number()
        .int()
        .min(1)
        .max(limits.maxK)
        .optional()
        .openapi({ description: "items returned (default 10)" }),
      excludeSeen: z
        .boolean()
        .optional()
        .openapi({ description: "drop history items from the ranking (default true)" }),
      template: z.number().int().min(0).max(1000).optional().openapi({
        description:
          "prompt template index (a prepared example's `template` reproduces its prompt; default 0)",
      }),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.candidates) noDuplicates(v.candidates, ctx, "candidates");
    })
    .openapi("RecommendRequest");
}

export const RecommendResponse = z
  .object({
    items: z.array(
      z.object({
        item: z.number().int(),
        title: z.string(),
        score: z.number(),
        rank: z.number().int(),
      }),
    ),
    model: z.string(),
    latencyMs: z.number(),
    warnings: z.array(WarningSchema).optional(),
  })
  .openapi("RecommendResponse");

/** POST /v1/score request: answers scored by log-likelihood given a prompt (or one rendered from history). */
export function scoreRequest(limits: Limits) {
  return z
    .object({
      prompt: z.string().min(1).max(100_000).optional(),
      history: z.array(HistoryEntrySchema).min(1).max(limits.maxHistory).optional(),
      candidates: z.array(ItemRefSchema).min(1).max(limits.maxCandidates).optional().openapi({
        description: "candidates shown in a rendered prompt (default: the answers)",
      }),
      answers: z.array(z.string().min(1).max(1000)).min(1).max(limits.maxCandidates),
      template: z.number().int().min(0).max(1000).optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if ((v.prompt === undefined) === (v.history === undefined))
        ctx.addIssue({
          code: "custom",
          path: ["prompt"],
          message: "give exactly one of prompt or history",
        });
      const seen = new Map<string, number>();
      v.answers.forEach((a, i) => {
        const first = seen.get(a);
        if (first !== undefined)
          ctx.addIssue({
            code: "custom",
            path: ["answers", i],
            message: `duplicates answers[${first}]`,
          });
        else seen.set(a, i);
      });
      if (v.candidates) noDuplicates(v.candidates, ctx, "candidates");
    })
    .openapi("ScoreRequest");
}

export const ScoreResponse = z
  .object({
    scores: z.array(z.object({ answer: z.string(), logp: z.number() })),
    prompt: z.string(),
    model: z.string(),
    latencyMs: z.number(),
    warnings: z.array(WarningSchema).optional(),
  })
  .openapi("ScoreResponse");

export { ErrorSchema };
export type RecommendBody = z.infer<ReturnType<typeof recommendRequest>>;
export type ScoreBody = z.infer<ReturnType<typeof scoreRequest>>;
