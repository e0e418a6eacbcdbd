// The objectives registry: every objective a complete unit, settings validated with the closest
// valid key named, and the README's table equal to the one generated from the registry.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import {
  defineObjective,
  needsReference,
  negativesUsed,
  objectiveDefaults,
  objectiveDefinitions,
  objectiveNames,
  objectivesTable,
  parseObjective,
  registerObjective,
} from "../../src/objectives/index.js";
import { sft } from "../../src/objectives/sft.js";

describe("objectives registry", () => {
  it("holds the seven built-ins, each a complete unit", () => {
    assert.deepEqual(objectiveNames(), ["sft", "dpo", "sdpo", "recpo", "simpo", "dmpo", "ipo"]);
    for (const d of objectiveDefinitions()) {
      assert.ok(d.summary.length > 0 && d.formula.length > 0, d.name);
      assert.equal(d.paper === null, d.name === "sft", `${d.name}: paper`);
      for (const [key, field] of Object.entries(d.params.shape)) {
        assert.ok((field as { description?: string }).description, `${d.name}.${key} described`);
      }
    }
  });

  it("derives reference and negative needs from each definition", () => {
    const all = objectiveNames().map((type) =>
      parseObjective({ type, ...objectiveDefaults(type) }),
    );
    assert.deepEqual(
      all.map((o) => [o.type, needsReference(o), negativesUsed(o)]),
      [
        ["sft", false, 0],
        ["dpo", true, 1],
        ["sdpo", true, 3],
        ["recpo", true, 3],
        ["simpo", false, 1],
        ["dmpo", true, 3],
        ["ipo", true, 1],
      ],
    );
    assert.equal(negativesUsed({ type: "sdpo", beta: 1, negatives: 5 }), 5);
  });

  it("a config states every parameter; errors name the key and the closest valid one", () => {
    assert.deepEqual(parseObjective({ type: "recpo", beta: 1, negatives: 2, lambda: 0 }), {
      type: "recpo",
      beta: 1,
      negatives: 2,
      lambda: 0,
    });
    assert.throws(
      () => parseObjective({ type: "sdpo", beta: 1, negatvies: 3 }, "x.yaml"),
      /^UserError: x\.yaml: negatives: required \(a number\); negatvies: unknown key "negatvies" \(did you mean "negatives"\?\)$/,
    );
    assert.throws(
      () => parseObjective({ type: "sdp" }),
      /unknown objective "sdp" \(one of sft, dpo, sdpo, recpo, simpo, dmpo, ipo; did you mean "sdpo"\?\)/,
    );
    assert.throws(
      () => parseObjective({ type: "sdpo", beta: 1, negatives: 0 }),
      /negatives: expected a whole number ≥ 1/,
    );
    assert.throws(() => parseObjective({ type: "ipo", tau: -1 }), /tau: expected a number > 0/);
  });

  it("refuses a second objective of the same name", () => {
    assert.throws(() => registerObjective(defineObjective({ ...sft })), /already registered/);
    assert.throws(
      () => registerObjective(defineObjective({ ...sft, name: "Bad Name" })),
      /lower-case letters/,
    );
  });

  it("README's objectives table is the registry's (tools/objectives-table.ts prints it)", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    assert.ok(
      readme.includes(objectivesTable()),
      `README.md's objectives table differs from the registry; replace it with:\n${objectivesTable()}`,
    );
  });
});
