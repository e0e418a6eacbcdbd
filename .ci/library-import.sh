#!/usr/bin/env bash
# The README's Library import, run the way another project would after `npm run build`: a
# separate folder whose node_modules/prefrec is this checkout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$root/dist/index.js" ] || { echo "dist/ is missing: run npm run build first" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/node_modules"
ln -s "$root" "$dir/node_modules/prefrec"
echo '{"type":"module"}' > "$dir/package.json"
cat > "$dir/check.js" <<'JS'
import { data, LanguageModel, LmTokenizer, parseTrainConfig, train } from "prefrec";
for (const [name, value] of Object.entries({ LanguageModel, LmTokenizer, parseTrainConfig, train, prepareDataset: data.prepareDataset }))
  if (typeof value !== "function") throw new Error(`prefrec does not export ${name}`);
console.log("library import: ok");
JS
(cd "$dir" && node check.js)
