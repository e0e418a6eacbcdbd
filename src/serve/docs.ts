// The /docs page: a self-contained HTML rendering of the OpenAPI document (no scripts, nothing
// fetched from elsewhere), so it works on a machine without internet.

type Json = Record<string, unknown>;

const esc = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

/** HTML for an OpenAPI 3 document: every path and method, summary, request and response schemas. */
export function docsHtml(doc: Json): string {
  const info = (doc.info ?? {}) as Json;
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(String(info.title ?? "API"))}</title>`,
    "<style>body{font-family:sans-serif;max-width:1000px;margin:2em}pre{background:#f5f5f5;padding:8px;overflow:auto}code{font-weight:bold}</style>",
    `</head><body><h1>${esc(String(info.title ?? "API"))} ${esc(String(info.version ?? ""))}</h1>`,
    `<p>${esc(String(info.description ?? ""))} Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>`,
  ];
  for (const [path, methods] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const [method, op] of Object.entries(methods as Record<string, Json>)) {
      parts.push(`<h2><code>${method.toUpperCase()} ${esc(path)}</code></h2>`);
      if (op.summary) parts.push(`<p>${esc(String(op.summary))}</p>`);
      if (op.description) parts.push(`<p>${esc(String(op.description))}</p>`);
      const body = (op.requestBody as Json | undefined)?.content as
        | Record<string, Json>
        | undefined;
      if (body)
        parts.push(
          "<h3>Request</h3>",
          `<pre>${esc(JSON.stringify(body["application/json"]?.schema, null, 2))}</pre>`,
        );
      for (const [status, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
        parts.push(`<h3>${esc(status)}: ${esc(String(r.description ?? ""))}</h3>`);
      }
    }
  }
  const schemas = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, unknown>;
  if (Object.keys(schemas).length) {
    parts.push("<h2>Schemas</h2>");
    for (const [name, s] of Object.entries(schemas))
      parts.push(
        `<h3 id="${esc(name)}">${esc(name)}</h3><pre>${esc(JSON.stringify(s, null, 2))}</pre>`,
      );
  }
  parts.push("</body></html>");
  return parts.join("\n");
}
