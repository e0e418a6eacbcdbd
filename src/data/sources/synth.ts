// A folder written by `prefrec data synth`, read as a generic log with titles and genres.
import { join } from "node:path";
import { requireFile } from "../lines.js";
import type { LoadedLog, LoadOptions } from "../log.js";
import { forEachRow, loadCsv } from "./csv.js";

/** Loads interactions.csv + items.jsonl of a synthetic world. */
export async function loadSynthFolder(opts: LoadOptions): Promise<LoadedLog> {
  const inter = await requireFile(
    join(opts.path, "interactions.csv"),
    "synthetic interactions.csv (run `prefrec data synth`)",
  );
  const items = await requireFile(join(opts.path, "items.jsonl"), "synthetic items.jsonl");
  const loaded = await loadCsv({
    ...opts,
    path: inter,
    columns: { user: "user", item: "item", rating: "rating", time: "time" },
    titleFile: items,
    domain: opts.domain ?? "generic",
  });
  await forEachRow(items, ["id"], opts, (get) => {
    const it = loaded.catalog.get(String(get("id")));
    const genre = get("genre");
    if (it && genre !== undefined) it.attributes = { genre: String(genre) };
  });
  return loaded;
}
