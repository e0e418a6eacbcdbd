// Renders Vega-Lite specs headless: vega-lite compiles, vega draws SVG (no canvas, so text widths
// are vega's own estimate), resvg rasterizes to PNG with the DejaVu font shipped in an npm
// package and no system fonts — the same bytes on every machine.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** The font every chart names; the PNG renderer loads exactly this file. */
export const CHART_FONT = "DejaVu Sans";

let fontFile: string | undefined;
function chartFontFile(): string {
  if (!fontFile) {
    // The package has no exports map, so its package.json resolves and the TTF sits beside it.
    const pkg = createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json");
    fontFile = join(dirname(pkg), "ttf", "DejaVuSans.ttf");
  }
  return fontFile;
}

/** Settings shared by every chart: the shipped font, no animation-only features. */
export const CHART_CONFIG = {
  font: CHART_FONT,
  background: "white",
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14 },
} as const;

/** Vega-Lite spec → standalone SVG text. */
export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile({
    ...spec,
    config: { ...CHART_CONFIG, ...spec.config },
  } as TopLevelSpec);
  const view = new vega.View(vega.parse(compiled.spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG text → PNG bytes at `scale` × the SVG's own size. */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [chartFontFile()], defaultFontFamily: CHART_FONT },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
  });
  return resvg.render().asPng();
}
