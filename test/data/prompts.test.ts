import assert from "node:assert/strict";
import { test } from "node:test";
import { DataError } from "../../src/data/errors.js";
import { loadTemplates, parseTemplates, renderPrompt } from "../../src/data/prompts.js";
import { DOMAINS } from "../../src/data/types.js";

test("every domain ships several templates with both placeholders", async () => {
  for (const d of DOMAINS) {
    const t = await loadTemplates(d);
    assert.ok(t.length >= 4, `${d}: ${t.length} templates`);
  }
});

test("template files: comments skipped, missing placeholder reported with its line", () => {
  assert.deepEqual(parseTemplates("# c\n\nA [HistoryHere] B [CansHere]\n", "f.txt"), [
    "A [HistoryHere] B [CansHere]",
  ]);
  assert.throws(
    () => parseTemplates("# c\nno placeholders here\n", "f.txt"),
    (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.match(e.message, /f\.txt:2: .*\[HistoryHere\]/);
      return true;
    },
  );
  assert.throws(() => parseTemplates("# only comments\n", "g.txt"), /no templates/);
});

test("renderPrompt fills history (with ratings when asked), candidates and their count", () => {
  const history = [
    { item: 0, title: "A $& B", rating: 4 },
    { item: 1, title: "C" },
  ];
  const cands = [
    { item: 2, title: "X" },
    { item: 3, title: "Y" },
  ];
  const t = "H: [HistoryHere] | [NumCans] options: [CansHere]. Answer:";
  assert.equal(renderPrompt(t, history, cands), "H: A $& B, C | 2 options: X, Y. Answer:");
  assert.equal(
    renderPrompt(t, history, cands, {
      showRatings: true,
      historySeparator: "\n",
      candidateSeparator: ", ",
    }),
    "H: A $& B | Rating: 4\nC | 2 options: X, Y. Answer:",
  );
});
