// Test helpers: parse an SVG (fails on malformed XML) and query vega's mark groups by class.

import assert from "node:assert/strict";
import { XMLParser, XMLValidator } from "fast-xml-parser";

export type Node = Record<string, unknown>;

/** Parses SVG text; asserts it is well-formed XML with an <svg> root. */
export function parseSvg(svg: string): Node {
  const valid = XMLValidator.validate(svg);
  assert.equal(valid, true, `SVG does not parse: ${JSON.stringify(valid)}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_" }).parse(svg);
  assert.ok(doc.svg, "no <svg> root");
  return doc.svg as Node;
}

/** Every element (any depth) whose class list contains all `classes`. */
export function byClass(root: unknown, ...classes: string[]): Node[] {
  const out: Node[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (typeof n !== "object" || n === null) return;
    const node = n as Node;
    const cls = typeof node["@_class"] === "string" ? (node["@_class"] as string).split(/\s+/) : [];
    if (classes.every((c) => cls.includes(c))) out.push(node);
    for (const [k, v] of Object.entries(node)) if (!k.startsWith("@_")) walk(v);
  };
  walk(root);
  return out;
}

/** All text content under a node. */
export function texts(root: unknown): string[] {
  const out: string[] = [];
  const walk = (n: unknown, inText: boolean) => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x, inText);
      return;
    }
    if (typeof n === "string" || typeof n === "number") {
      if (inText) out.push(String(n));
      return;
    }
    if (typeof n !== "object" || n === null) return;
    for (const [k, v] of Object.entries(n as Node))
      if (!k.startsWith("@_")) walk(v, inText || k === "text" || k === "#text");
  };
  walk(root, false);
  return out;
}

/** Elements named `tag` under a node (any depth). */
export function elements(root: unknown, tag: string): Node[] {
  const out: Node[] = [];
  const walk = (n: unknown) => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
      return;
    }
    if (typeof n !== "object" || n === null) return;
    for (const [k, v] of Object.entries(n as Node)) {
      if (k.startsWith("@_")) continue;
      if (k === tag) for (const x of Array.isArray(v) ? v : [v]) out.push(x as Node);
      walk(v);
    }
  };
  walk(root);
  return out;
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...png.subarray(0, 8)], sig, "not a PNG");
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
