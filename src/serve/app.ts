// The HTTP app (hono + zod-openapi) over a RecommendService: routes, validation errors as 400s
// naming the field, body-size limit, queue-full 503 with Retry-After, timeouts as 504, one
// structured log line per request. Tested in-process with `app.request()`.

import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Recommender } from "../recommender.js";
import { QueueFullError, TimeoutError } from "./batcher.js";
import type { ServeCatalog } from "./catalog.js";
import { docsHtml } from "./docs.js";
import { errorResponse, HttpError, validationError } from "./errors.js";
import {
  DEFAULT_LIMITS,
  ErrorSchema,
  type Limits,
  RecommendResponse,
  recommendRequest,
  ScoreResponse,
  scoreRequest,
} from "./schemas.js";
import { type BatchingOptions, DEFAULT_BATCHING, RecommendService } from "./service.js";

/** One request's log line. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
  latencyMs: number;
  batchSize?: number;
}

export interface AppOptions {
  recommender: Recommender;
  catalog: ServeCatalog;
  batching?: Partial<BatchingOptions>;
  limits?: Partial<Limits>;
  /** Largest request body in bytes (413 beyond). */
  bodyLimit?: number;
  /** Called once per request (the CLI passes a pino logger). */
  log?: (entry: RequestLog) => void;
}

type Env = { Variables: { batchSize?: number } };

const jsonBody = <T>(schema: T) => ({ content: { "application/json": { schema } } });
const errors = {
  400: { description: "invalid request (the error names the field)", ...jsonBody(ErrorSchema) },
  413: { description: "request body too large", ...jsonBody(ErrorSchema) },
  422: { description: "an item the catalog does not have", ...jsonBody(ErrorSchema) },
  503: { description: "queue full (Retry-After) or not ready", ...jsonBody(ErrorSchema) },
  504: { description: "no result within the request timeout", ...jsonBody(ErrorSchema) },
};

/** Builds the app; `service.warmUp()` makes /readyz answer 200. */
export function createApp(options: AppOptions): {
  app: OpenAPIHono<Env>;
  service: RecommendService;
} {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const service = new RecommendService(options.recommender, options.catalog, {
    ...DEFAULT_BATCHING,
    ...options.batching,
  });
  const app = new OpenAPIHono<Env>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });

  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    options.log?.({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      latencyMs: Number((performance.now() - t0).toFixed(2)),
      ...(c.var.batchSize !== undefined ? { batchSize: c.var.batchSize } : {}),
    });
  });
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: options.bodyLimit ?? 1024 * 1024,
      onError: () => {
        throw new HttpError(
          413,
          "body_too_large",
          `body: larger than ${options.bodyLimit ?? 1024 * 1024} bytes`,
          "body",
        );
      },
    }),
  );

  app.onError((error, c) => {
    if (error instanceof HttpError) return errorResponse(c, error);
    if (error instanceof QueueFullError)
      return errorResponse(
        c,
        new HttpError(503, "overloaded", error.message, undefined, { "Retry-After": "1" }),
      );
    if (error instanceof TimeoutError)
      return errorResponse(c, new HttpError(504, "timeout", error.message));
    if (error instanceof HTTPException && error.status < 500) {
      // hono's JSON validator: a body that is not JSON, or not declared as JSON.
      const status = error.status as 400 | 415;
      if (status === 415)
        return errorResponse(
          c,
          new HttpError(
            status,
            "unsupported_media_type",
            "body: send Content-Type: application/json",
            "body",
          ),
        );
      const malformed = /malformed json/i.test(error.message);
      return errorResponse(
        c,
        new HttpError(
          status,
          malformed ? "malformed_json" : "invalid_request",
          malformed ? "body: not valid JSON" : `body: ${error.message}`,
          "body",
        ),
      );
    }
    process.stderr.write(`prefrec serve: ${(error as Error).stack ?? error}\n`);
    return errorResponse(c, new HttpError(500, "internal", "internal error (see the server log)"));
  });
  // A known path with the wrong method (a GET to a POST route, say) is a 405 that says which.
  const methods: Record<string, string> = {
    "/v1/recommend": "POST",
    "/v1/score": "POST",
    "/healthz": "GET",
    "/readyz": "GET",
    "/openapi.json": "GET",
    "/docs": "GET",
  };
  app.notFound((c) => {
    const allowed = methods[c.req.path];
    if (allowed)
      return errorResponse(
        c,
        new HttpError(
          405,
          "method_not_allowed",
          `${c.req.path} answers ${allowed}, not ${c.req.method}`,
          undefined,
          { Allow: allowed },
        ),
      );
    return errorResponse(
      c,
      new HttpError(404, "not_found", `no route ${c.req.method} ${c.req.path}`),
    );
  });

  const recommend = createRoute({
    method: "post",
    path: "/v1/recommend",
    summary: "Rank candidates (or the whole catalog) for a history",
    description:
      "Unknown history items are ignored with a warning (422 when none is known); unknown candidates are a 422. Without candidates only models with full-catalog scoring answer (400 otherwise).",
    request: { body: { required: true, ...jsonBody(recommendRequest(limits)) } },
    responses: { 200: { description: "ranked items", ...jsonBody(RecommendResponse) }, ...errors },
  });
  app.openapi(recommend, async (c) => {
    const t0 = performance.now();
    const r = await service.recommend(c.req.valid("json"));
    c.set("batchSize", r.batchSize);
    return c.json(
      {
        items: r.items,
        model: service.model,
        latencyMs: Number((performance.now() - t0).toFixed(2)),
        ...(r.warnings.length ? { warnings: r.warnings } : {}),
      },
      200,
    );
  });

  const score = createRoute({
    method: "post",
    path: "/v1/score",
    summary: "Log-likelihood of answers given a prompt, or a prompt rendered from a history",
    request: { body: { required: true, ...jsonBody(scoreRequest(limits)) } },
    responses: {
      200: { description: "one log-likelihood per answer", ...jsonBody(ScoreResponse) },
      ...errors,
    },
  });
  app.openapi(score, async (c) => {
    const t0 = performance.now();
    const r = await service.score(c.req.valid("json"));
    c.set("batchSize", r.batchSize);
    return c.json(
      {
        scores: r.scores,
        prompt: r.prompt,
        model: service.model,
        latencyMs: Number((performance.now() - t0).toFixed(2)),
        ...(r.warnings.length ? { warnings: r.warnings } : {}),
      },
      200,
    );
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) =>
    service.ready
      ? c.json({ ready: true, model: service.model, waiting: service.waiting })
      : c.json({ ready: false, model: service.model }, 503),
  );
  const info = {
    openapi: "3.0.0",
    info: {
      title: "prefrec serve",
      version: "0.1.0",
      description: `Recommendations from ${service.model} (${options.recommender.describe().kind}).`,
    },
  };
  app.doc("/openapi.json", info);
  app.get("/docs", (c) => c.html(docsHtml(app.getOpenAPIDocument(info) as never)));
  return { app, service };
}
