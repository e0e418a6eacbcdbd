// The progress reporter off a terminal: lines every N units with an ETA, silence when quiet.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, startProgress, startStepProgress } from "../../src/io/progress.js";

function fakeStream(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = {
    isTTY: false,
    write(s: string) {
      lines.push(...s.split("\n").filter((l) => l));
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

test("off a terminal: a line every `every` units with count, percentage and ETA", () => {
  const { stream, lines } = fakeStream();
  const p = startProgress("work", 10, { every: 5, stream });
  for (let i = 0; i < 10; i++) p.tick();
  p.done();
  assert.equal(lines.length, 2, lines.join("\n"));
  assert.match(lines[0], /^work: 5\/10 \(50%\), eta \d+s$/);
  assert.match(lines[1], /^work: 10\/10 \(100%\), eta 0s$/);
});

test("a resumed step counter starts at its step and shows the loss", () => {
  const { stream, lines } = fakeStream();
  const p = startProgress("train", 8, { start: 4, every: 2, stream });
  p.update(5, "loss 1.0000");
  p.update(6, "loss 0.5000");
  p.update(8, "loss 0.2500");
  p.done();
  assert.deepEqual(
    lines.map((l) => l.replace(/eta .*$/, "eta")),
    ["train: 6/8 (75%), loss 0.5000, eta", "train: 8/8 (100%), loss 0.2500, eta"],
  );
});

test("quiet reporters and step progress with quiet write nothing", () => {
  const write = process.stderr.write;
  let wrote = false;
  process.stderr.write = (() => {
    wrote = true;
    return true;
  }) as typeof process.stderr.write;
  try {
    const p = startProgress("x", 3, true);
    p.tick();
    p.done();
    const s = startStepProgress("y", 3, 0, true);
    s.update(1, 2);
    s.done();
  } finally {
    process.stderr.write = write;
  }
  assert.equal(wrote, false);
});

test("formatDuration", () => {
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(185), "3m05s");
  assert.equal(formatDuration(3720), "1h02m");
  assert.equal(formatDuration(Number.NaN), "?");
});
