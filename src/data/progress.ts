// Progress for long work: a bar on a TTY, plain periodic lines on stderr otherwise.
import cliProgress from "cli-progress";

/** A progress reporter; `quiet` turns it off (tests, library use). */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

/** Starts a progress reporter for `total` units of work labelled `label`. */
export function startProgress(label: string, total: number, quiet = false): Progress {
  if (quiet || total <= 0) return { tick() {}, done() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta}s`,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    let n = 0;
    let drawn = 0;
    return {
      tick(k = 1) {
        n += k;
        // Redraw at most ~10 times a second: ticks can come per item.
        const now = Date.now();
        if (now - drawn > 100 || n >= total) {
          drawn = now;
          bar.update(n);
        }
      },
      done() {
        bar.update(total);
        bar.stop();
      },
    };
  }
  let n = 0;
  const started = Date.now();
  let last = started;
  return {
    tick(k = 1) {
      n += k;
      const now = Date.now();
      if (now - last > 2000) {
        last = now;
        const eta = n > 0 ? Math.round((((now - started) / n) * (total - n)) / 1000) : 0;
        process.stderr.write(
          `${label}: ${n}/${total} (${Math.round((100 * n) / total)}%), eta ${eta}s\n`,
        );
      }
    },
    done() {
      process.stderr.write(`${label}: ${total}/${total} done\n`);
    },
  };
}

/** A plain status line on stderr unless quiet. */
export function note(message: string, quiet = false): void {
  if (!quiet) process.stderr.write(`${message}\n`);
}
