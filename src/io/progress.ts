// The one progress reporter: a bar with ETA on a terminal, plain lines with ETA on stderr otherwise
// (logs, CI), nothing when quiet. Used for data preparation, downloads, tokenization, training
// steps and evaluation alike.
import cliProgress from "cli-progress";

/** A progress reporter over a known total. */
export interface Progress {
  /** Advances by `n` units (default 1). */
  tick(n?: number): void;
  /** Sets the position; `extra` is shown after the count (e.g. "loss 3.1234"). */
  update(value: number, extra?: string): void;
  /** Finishes the bar (or writes the final line). */
  done(): void;
}

/** How a progress reporter shows itself. */
export interface ProgressOptions {
  /** Show nothing (tests, library use). */
  quiet?: boolean;
  /** Units already done before this run (a resumed training), excluded from the ETA's rate. */
  start?: number;
  /** Off a terminal: a line every `every` units; without it, a line at most every 2 s. */
  every?: number;
  /** The stream written to (default stderr); its isTTY decides bar or lines. */
  stream?: NodeJS.WriteStream;
}

/** "1h02m", "3m05s" or "42s": the shape of an ETA. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

const SILENT: Progress = { tick() {}, update() {}, done() {} };

/** Starts a progress reporter for `total` units labelled `label` (`true` as options = quiet). */
export function startProgress(
  label: string,
  total: number,
  options: ProgressOptions | boolean = {},
): Progress {
  const o: ProgressOptions = typeof options === "boolean" ? { quiet: options } : options;
  if (o.quiet || total <= 0) return SILENT;
  const stream = o.stream ?? process.stderr;
  const start = o.start ?? 0;
  const t0 = performance.now();
  let value = start;
  let extra = "";
  const eta = (): string => {
    const done = value - start;
    if (done <= 0) return "?";
    return formatDuration((((performance.now() - t0) / 1000) * (total - value)) / done);
  };

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total}{extra}, eta {myEta}`,
        stream,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { extra: "", myEta: "?" });
    let shown = 0;
    const render = (force: boolean) => {
      const now = performance.now();
      // Redrawing costs more than a tick of fast work: at most ten times a second.
      if (!force && now - shown < 100) return;
      shown = now;
      bar.update(value, { extra, myEta: eta() });
    };
    return {
      tick(n = 1) {
        value += n;
        render(value >= total);
      },
      update(v, e) {
        value = v;
        extra = e ? `, ${e}` : "";
        render(true);
      },
      done() {
        bar.update(Math.max(value, 0), { extra, myEta: "0s" });
        bar.stop();
      },
    };
  }

  let lastLine = performance.now();
  let lastValue = start;
  const line = () => {
    lastLine = performance.now();
    lastValue = value;
    const pct = Math.round((100 * value) / total);
    stream.write(`${label}: ${value}/${total} (${pct}%)${extra}, eta ${eta()}\n`);
  };
  const maybeLine = () => {
    if (o.every !== undefined) {
      if (value === total || Math.floor(value / o.every) > Math.floor(lastValue / o.every)) line();
    } else if (performance.now() - lastLine > 2000) line();
  };
  return {
    tick(n = 1) {
      value += n;
      maybeLine();
    },
    update(v, e) {
      value = v;
      extra = e ? `, ${e}` : "";
      maybeLine();
    },
    done() {
      if (value !== lastValue || o.every === undefined) {
        const seconds = (performance.now() - t0) / 1000;
        stream.write(`${label}: ${value}/${total} done in ${formatDuration(seconds)}${extra}\n`);
      }
    },
  };
}

/** Progress over steps with the latest loss shown (training, evaluation). */
export interface StepProgress {
  update(step: number, loss: number): void;
  done(): void;
}

/** Step progress from `start` to `total`; off a terminal a line every `every` steps (default: ~20 lines in all). */
export function startStepProgress(
  label: string,
  total: number,
  start: number,
  quiet: boolean,
  every?: number,
): StepProgress {
  const p = startProgress(label, total, {
    quiet,
    start,
    every: every ?? Math.max(1, Math.round(total / 20)),
  });
  return {
    update: (step, loss) => p.update(step, Number.isNaN(loss) ? "" : `loss ${loss.toFixed(4)}`),
    done: () => p.done(),
  };
}

/** A plain status line on stderr unless quiet. */
export function note(message: string, quiet = false): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}
