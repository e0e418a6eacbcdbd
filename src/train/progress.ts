// Progress over steps: a bar with the loss and ETA on a terminal, a plain line every N steps
// otherwise (logs, CI).

import cliProgress from "cli-progress";

export interface StepProgress {
  update(step: number, loss: number): void;
  done(): void;
}

/** Progress over `total` steps from `start`; off a terminal, a line every `every` steps (default: ~20 lines in all). */
export function startStepProgress(
  label: string,
  total: number,
  start: number,
  quiet: boolean,
  every?: number,
): StepProgress {
  if (quiet) return { update() {}, done() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {value}/{total}, loss {loss}, eta {eta_formatted}`,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { loss: "–" });
    return {
      update: (step, loss) =>
        bar.update(step, { loss: Number.isNaN(loss) ? "–" : loss.toFixed(4) }),
      done: () => bar.stop(),
    };
  }
  const interval = every ?? Math.max(1, Math.round(total / 20));
  return {
    update(step, loss) {
      if (step % interval === 0 || step === total) {
        process.stderr.write(
          `${label}: ${step}/${total}${Number.isNaN(loss) ? "" : `, loss ${loss.toFixed(4)}`}\n`,
        );
      }
    },
    done() {},
  };
}
