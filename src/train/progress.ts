// Training progress: a bar with the loss on a terminal, a plain line every few seconds otherwise.

import cliProgress from "cli-progress";

export interface StepProgress {
  update(step: number, loss: number): void;
  done(): void;
}

/** Progress over optimizer steps, starting at `start` of `total`. */
export function startStepProgress(
  label: string,
  total: number,
  start: number,
  quiet: boolean,
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
  let last = 0;
  return {
    update(step, loss) {
      const now = Date.now();
      if (now - last > 5000 || step === total) {
        last = now;
        process.stderr.write(
          `${label}: ${step}/${total}${Number.isNaN(loss) ? "" : `, loss ${loss.toFixed(4)}`}\n`,
        );
      }
    },
    done() {},
  };
}
