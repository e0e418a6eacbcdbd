// Symbolic dimensions. A dim is a number or a polynomial over named sizes ("batch", "2*seq",
// "Tp+Tc"), kept in one canonical string form so that equal sizes compare equal as strings.
// Polynomials (not just names) let reshape, concat and slice keep exact symbolic shapes, and
// let the lowering compute such sizes at run time from the inputs' shapes.

export type Dim = number | string;

/** monomial ("a*b", "" for the constant term) → coefficient */
type Poly = Map<string, number>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parse(dim: Dim): Poly {
  const poly: Poly = new Map();
  if (typeof dim === "number") {
    if (dim !== 0) poly.set("", dim);
    return poly;
  }
  const normalized = dim.replace(/\s+/g, "").replace(/-/g, "+-");
  for (const rawTerm of normalized.split("+")) {
    if (rawTerm === "") continue;
    let coef = 1;
    const names: string[] = [];
    for (let factor of rawTerm.split("*")) {
      if (factor.startsWith("-")) {
        coef = -coef;
        factor = factor.slice(1);
      }
      if (/^\d+$/.test(factor)) coef *= Number(factor);
      else if (NAME.test(factor)) names.push(factor);
      else throw new Error(`invalid symbolic dimension "${dim}"`);
    }
    names.sort();
    const key = names.join("*");
    poly.set(key, (poly.get(key) ?? 0) + coef);
  }
  for (const [k, c] of poly) if (c === 0) poly.delete(k);
  return poly;
}

function format(poly: Poly): Dim {
  const terms = [...poly].filter(([, c]) => c !== 0);
  if (terms.length === 0) return 0;
  if (terms.length === 1 && terms[0][0] === "") return terms[0][1];
  // Symbolic terms first (sorted), constant last: "a*b+c+2".
  terms.sort((x, y) => (x[0] === "" ? 1 : y[0] === "" ? -1 : x[0] < y[0] ? -1 : 1));
  let out = "";
  for (const [mono, coef] of terms) {
    const sign = coef < 0 ? "-" : out === "" ? "" : "+";
    const abs = Math.abs(coef);
    const body = mono === "" ? `${abs}` : abs === 1 ? mono : `${abs}*${mono}`;
    out += sign + body;
  }
  return out;
}

/** The canonical form of a dim (so "b*a" and "a*b" are the same string). */
export function canonicalDim(dim: Dim): Dim {
  if (typeof dim === "number") {
    if (!Number.isInteger(dim) || dim < 0) throw new Error(`invalid dimension ${dim}`);
    return dim;
  }
  return format(parse(dim));
}

export function isStatic(dim: Dim): dim is number {
  return typeof dim === "number";
}

export function dimAdd(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  const p = parse(a);
  for (const [k, c] of parse(b)) p.set(k, (p.get(k) ?? 0) + c);
  return format(p);
}

export function dimSub(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const p = parse(a);
  for (const [k, c] of parse(b)) p.set(k, (p.get(k) ?? 0) - c);
  return format(p);
}

export function dimMul(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  const out: Poly = new Map();
  for (const [ka, ca] of parse(a)) {
    for (const [kb, cb] of parse(b)) {
      const names = [...(ka ? ka.split("*") : []), ...(kb ? kb.split("*") : [])].sort();
      const key = names.join("*");
      out.set(key, (out.get(key) ?? 0) + ca * cb);
    }
  }
  return format(out);
}

/** Product of dims. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let p: Dim = 1;
  for (const d of dims) p = dimMul(p, d);
  return p;
}

/** Exact division a / b when b is a single term dividing every term of a; otherwise undefined. */
export function dimDiv(a: Dim, b: Dim): Dim | undefined {
  if (typeof a === "number" && typeof b === "number") {
    return b !== 0 && a % b === 0 ? a / b : undefined;
  }
  const pb = parse(b);
  if (pb.size !== 1) return a === b ? 1 : undefined;
  const [[kb, cb]] = [...pb];
  const divisor = kb ? kb.split("*") : [];
  const out: Poly = new Map();
  for (const [ka, ca] of parse(a)) {
    if (ca % cb !== 0) return undefined;
    const names = ka ? ka.split("*") : [];
    for (const d of divisor) {
      const i = names.indexOf(d);
      if (i < 0) return undefined;
      names.splice(i, 1);
    }
    out.set(names.join("*"), ca / cb);
  }
  return format(out);
}

/** The polynomial's terms, for lowering a dim to run-time arithmetic: coefficient × names. */
export function dimTerms(dim: Dim): { coef: number; names: string[] }[] {
  return [...parse(dim)].map(([k, c]) => ({ coef: c, names: k ? k.split("*") : [] }));
}

/** The named sizes a dim mentions. */
export function dimNames(dim: Dim): string[] {
  const names = new Set<string>();
  for (const t of dimTerms(dim)) for (const n of t.names) names.add(n);
  return [...names];
}

/** Evaluates a dim with the named sizes bound. */
export function evalDim(dim: Dim, bindings: ReadonlyMap<string, number>): number {
  if (typeof dim === "number") return dim;
  let total = 0;
  for (const { coef, names } of dimTerms(dim)) {
    let term = coef;
    for (const n of names) {
      const v = bindings.get(n);
      if (v === undefined) throw new Error(`symbolic dimension "${n}" is not bound`);
      term *= v;
    }
    total += term;
  }
  return total;
}

export function formatShape(shape: readonly Dim[]): string {
  return `[${shape.join(", ")}]`;
}
