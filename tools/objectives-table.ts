// Prints the README's objectives table from the registry: `npx tsx tools/objectives-table.ts`
// (test/objectives/registry.test.ts fails when README.md and the registry disagree).
import { objectivesTable } from "../src/objectives/index.js";

process.stdout.write(`${objectivesTable()}\n`);
