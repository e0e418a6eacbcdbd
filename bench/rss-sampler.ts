// Peak anonymous and file-backed resident memory of this process, sampled every few
// milliseconds by a worker thread (ONNX Runtime's runs block the main thread's event loop), so a
// bench can tell memory-mapped weights (file pages) from allocations (activations, float32
// copies) at each phase's peak. Linux only (/proc/self/status); elsewhere it reports zeros.

import { Worker } from "node:worker_threads";

const WORKER = `
const { readFileSync } = require("node:fs");
const { workerData } = require("node:worker_threads");
const peaks = new Float64Array(workerData);
const field = (s, k) => { const m = s.match(new RegExp(k + ":\\\\s+(\\\\d+)")); return m ? Number(m[1]) * 1024 : 0; };
setInterval(() => {
  let s;
  try { s = readFileSync("/proc/self/status", "utf8"); } catch { return; }
  const anon = field(s, "RssAnon"), file = field(s, "RssFile"), total = field(s, "VmRSS");
  if (anon > peaks[0]) peaks[0] = anon;
  if (file > peaks[1]) peaks[1] = file;
  if (total > peaks[2]) { peaks[2] = total; peaks[3] = anon; peaks[4] = file; }
}, 5);
`;

/** Peaks since the last reset, in bytes; `atPeak*` split the highest total into its parts. */
export interface RssPeaks {
  anon: number;
  file: number;
  total: number;
  atPeakAnon: number;
  atPeakFile: number;
}

/** Starts the sampler; `read()` returns the peaks since start or the last `reset()`. */
export function startRssSampler(): { read(): RssPeaks; reset(): void; stop(): Promise<number> } {
  const shared = new SharedArrayBuffer(5 * 8);
  const peaks = new Float64Array(shared);
  const worker = new Worker(WORKER, { eval: true, workerData: shared });
  worker.unref();
  return {
    read: () => ({
      anon: peaks[0],
      file: peaks[1],
      total: peaks[2],
      atPeakAnon: peaks[3],
      atPeakFile: peaks[4],
    }),
    reset: () => peaks.fill(0),
    stop: () => worker.terminate(),
  };
}
