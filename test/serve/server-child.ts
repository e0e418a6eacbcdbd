// A server process for the shutdown test: a slow fake model on a free loopback port; prints
// "PORT n" when listening and exits on its own after a graceful close (SIGTERM/SIGINT); the
// fake's delay also slows its warm-up, so a signal right after PORT lands during warm-up.

import { createApp } from "../../src/serve/app.js";
import { closeOnSignals, startServer } from "../../src/serve/server.js";
import { FakeRecommender, fakeCatalog } from "./fakes.js";

const { app, service } = createApp({
  recommender: new FakeRecommender({ delayMs: Number(process.argv[2] ?? 400) }),
  catalog: fakeCatalog(),
  log: (entry) => process.stdout.write(`${JSON.stringify(entry)}\n`),
});
const server = await startServer(app, service, {
  host: "127.0.0.1",
  port: 0,
  onWarmUpError: (error) => process.stdout.write(`WARM-UP FAILED ${error}\n`),
});
closeOnSignals(server, (signal) => process.stdout.write(`SIGNAL ${signal}\n`));
process.stdout.write(`PORT ${server.port}\n`);
await server.closed;
process.stdout.write("CLOSED\n");
