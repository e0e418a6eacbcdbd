// The listening server: binds the app to a host/port (@hono/node-server), warms the model up for
// /readyz, and shuts down gracefully — on SIGTERM/SIGINT it stops accepting connections, lets
// in-flight requests finish (answering them with Connection: close), releases the model, resolves.

import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { repeatFilter } from "../io/interrupt.js";
import type { RecommendService } from "./service.js";

export interface RunningServer {
  /** The bound port (useful with port 0). */
  port: number;
  host: string;
  /** Stops accepting, waits for in-flight requests (at most `graceMs`), then resolves. */
  close(graceMs?: number): Promise<void>;
  /** Resolves once the server has closed (by close() or a signal). */
  closed: Promise<void>;
}

type Fetch = OpenAPIHono["fetch"];

/** Listens on host:port; resolves once listening. The model warms up in the background. */
export async function startServer(
  app: { fetch: Fetch },
  service: RecommendService,
  options: { host: string; port: number; onWarmUpError?: (error: unknown) => void },
): Promise<RunningServer> {
  let closing = false;
  const fetch: Fetch = async (req, ...rest) => {
    const res = await app.fetch(req, ...rest);
    // While draining, every answer closes its connection so keep-alive clients reconnect elsewhere.
    if (closing) res.headers.set("Connection", "close");
    return res;
  };
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch, hostname: options.host, port: options.port }, () => resolve(s));
    s.once("error", reject);
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });
  // A failure after shutdown began is the shutdown's doing (the model was being released), not
  // the model's: only earlier failures are reported.
  const warming = service.warmUp().catch((error) => {
    if (!closing) options.onWarmUpError?.(error);
  });
  // Keep-alive longer than clients and proxies keep idle sockets (Node's 5 s default lets the
  // server close a socket just as a client reuses it: ECONNRESET under load, measured).
  (server as Server).keepAliveTimeout = 65_000;
  (server as Server).headersTimeout = 66_000;
  const address = server.address() as AddressInfo;
  const close = async (graceMs = 30_000) => {
    if (closing) return closed;
    closing = true;
    service.ready = false;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        (server as Server).closeAllConnections?.();
      }, graceMs);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      (server as Server).closeIdleConnections?.();
    });
    // Never release the model under a warm-up still running (a signal during warm-up).
    await warming;
    await service.recommender.dispose?.();
    resolveClosed();
  };
  return { port: address.port, host: options.host, close, closed };
}

/** Closes `server` on the first SIGTERM or SIGINT (a second one exits at once). */
export function closeOnSignals(server: RunningServer, onSignal?: (signal: string) => void): void {
  let seen = false;
  const repeat = repeatFilter();
  const handler = (signal: NodeJS.Signals) => {
    if (repeat(signal)) return;
    if (seen) process.exit(130);
    seen = true;
    onSignal?.(signal);
    void server.close();
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  void server.closed.then(() => {
    process.off("SIGTERM", handler);
    process.off("SIGINT", handler);
  });
}
