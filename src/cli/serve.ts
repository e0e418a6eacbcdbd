// `prefrec serve RUN|MODEL`: recommendations over HTTP with micro-batching (see src/serve/).

import { type CommandUnknownOpts, InvalidArgumentError } from "@commander-js/extra-typings";
import { pino } from "pino";
import { loadRecommender } from "../eval/load.js";
import { type Provider, Runtime } from "../graph/index.js";
import { weightsDtypeSchema } from "../graph/options.js";
import { RuntimeFailure, UserError } from "../io/errors.js";
import { createApp } from "../serve/app.js";
import { ServeCatalog } from "../serve/catalog.js";
import { runInfo } from "../serve/run-info.js";
import { closeOnSignals, startServer } from "../serve/server.js";
import { integerAtLeast } from "./args.js";
import { CliError } from "./errors.js";
import { providerOption, threadsOption, weightsDtypeOption } from "./options.js";

const positive = integerAtLeast(1);
const count = integerAtLeast(0);
const port = (value: string): number => {
  const n = count(value);
  if (n > 65535) throw new InvalidArgumentError(`expected a port 0–65535, got "${value}"`);
  return n;
};

/** A listening failure as one line naming the option to change, or null when it is not one. */
export function listenError(error: unknown, host: string, portNumber: number): CliError | null {
  const code = (error as NodeJS.ErrnoException).code;
  const at = `${host}:${portNumber}`;
  if (code === "EADDRINUSE")
    return new CliError(
      `--port ${portNumber}: ${at} is already in use (pick another port, or 0 for any free one)`,
    );
  if (code === "EACCES")
    return new CliError(
      `--port ${portNumber}: not allowed to listen on ${at} (ports below 1024 need privileges)`,
    );
  if (code === "EADDRNOTAVAIL")
    return new CliError(`--host ${host}: no network interface of this machine has that address`);
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return new CliError(`--host ${host}: cannot resolve that name`);
  return null;
}

/** Registers `prefrec serve`. */
export function registerServe(program: CommandUnknownOpts): void {
  program
    .command("serve")
    .description("Serve a training run (its best checkpoint) or a model directory over HTTP")
    .argument("<target>", "run directory or model directory")
    .option("--data <dir>", "prepared dataset: catalog and prompt templates (default: the run's)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", port, 8080)
    .option("--max-batch <n>", "requests gathered into one engine run", positive, 32)
    .option(
      "--engine-batch <n>",
      "longest engine run a gathered batch is cut into (requests sorted by size)",
      positive,
      8,
    )
    .option("--max-wait-ms <n>", "longest a request waits for its batch to fill", count, 5)
    .option("--max-queue <n>", "requests waiting beyond this get 503 + Retry-After", positive, 256)
    .option("--timeout-ms <n>", "per-request time limit, queue included (504)", positive, 30_000)
    .option("--max-history <n>", "longest history accepted", positive, 200)
    .option("--max-candidates <n>", "longest candidate (or answer) list accepted", positive, 1000)
    .option(
      "--max-answer-tokens <n>",
      "most padded answer tokens (candidates × longest answer) per request and per engine run",
      positive,
      16_384,
    )
    .option("--body-limit <bytes>", "largest request body (413)", positive, 1024 * 1024)
    .option(
      "--max-prompt-tokens <n>",
      "longer prompts keep their end (default: the run's, else 512)",
      positive,
    )
    .addOption(threadsOption())
    .addOption(providerOption())
    .addOption(weightsDtypeOption())
    .action(async (target, opts) => {
      const log = pino({ base: undefined });
      try {
        const info = await runInfo(target);
        const { recommender } = await loadRecommender(target, {
          checkpoint: "auto",
          runtime: new Runtime({
            provider: (opts.provider as Provider | undefined) ?? "cpu",
            threads: (opts as { threads?: number }).threads,
          }),
          maxPromptTokens: opts.maxPromptTokens ?? info.maxPromptTokens ?? undefined,
          weightsDtype: weightsDtypeSchema.parse(opts.weightsDtype),
        });
        const dataDir = opts.data ?? info.dataDir;
        if (!dataDir)
          throw new UserError(
            `${target} is a model directory: give --data DIR (its prepared dataset)`,
          );
        const catalog = await ServeCatalog.load(dataDir);
        const { app, service } = createApp({
          recommender,
          catalog,
          batching: {
            maxBatch: opts.maxBatch,
            engineBatch: opts.engineBatch,
            maxWaitMs: opts.maxWaitMs,
            maxQueue: opts.maxQueue,
            timeoutMs: opts.timeoutMs,
            maxAnswerTokens: opts.maxAnswerTokens,
          },
          limits: { maxHistory: opts.maxHistory, maxCandidates: opts.maxCandidates },
          bodyLimit: opts.bodyLimit,
          log: (entry) => log.info(entry, "request"),
        });
        let warmUpError: unknown = null;
        const server = await startServer(app, service, {
          host: opts.host,
          port: opts.port,
          onWarmUpError: (error) => {
            warmUpError = error;
            log.error({ error: String(error) }, "warm-up failed");
            void server.close();
          },
        });
        log.info(
          {
            host: server.host,
            port: server.port,
            model: service.model,
            items: catalog.items.length,
          },
          "listening",
        );
        closeOnSignals(server, (signal) => log.info({ signal }, "draining"));
        await server.closed;
        log.info("stopped");
        // A server that never became ready failed: exit 1 with the reason, not 0.
        if (warmUpError !== null) {
          const reason = warmUpError instanceof Error ? warmUpError.message : String(warmUpError);
          throw new RuntimeFailure(`the model failed to warm up: ${reason}`);
        }
      } catch (error) {
        // Listening errors name no path, so the CLI's failure printer would call them internal.
        throw listenError(error, opts.host, opts.port) ?? error;
      }
    });
}
