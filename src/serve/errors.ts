// The server's error answers: one JSON shape {error: {code, message, path?}} for every 4xx/5xx,
// with zod issues turned into the dotted/indexed field path people can find in their request.

import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error the handlers raise to answer with a given status, code and field path. */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly path?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** ["history", 2, "rating"] → "history[2].rating". */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

/** The first zod issue as a 400 (one line: path and what was expected). */
export function validationError(error: z.ZodError): HttpError {
  const issue = error.issues[0];
  let path = [...issue.path];
  // Unknown keys are reported on the object; name the key itself.
  if (issue.code === "unrecognized_keys") path = [...path, issue.keys[0]];
  const where = fieldPath(path) || "body";
  const message = issue.code === "unrecognized_keys" ? "unknown field" : issue.message;
  return new HttpError(400, "invalid_request", `${where}: ${message}`, where);
}

/** Writes an HttpError as the JSON answer. */
export function errorResponse(c: Context, e: HttpError): Response {
  for (const [k, v] of Object.entries(e.headers)) c.header(k, v);
  return c.json(
    { error: { code: e.code, message: e.message, ...(e.path ? { path: e.path } : {}) } },
    e.status,
  );
}
