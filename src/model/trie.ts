// A prefix trie over tokenized candidates (each ending in EOS), for candidate-constrained decoding:
// at every step only tokens that continue some candidate are allowed.

interface TrieNode {
  children: Map<number, TrieNode>;
  /** Candidates whose token path passes through (or ends at) this node. */
  candidates: number[];
}

export class CandidateTrie {
  private readonly root: TrieNode = { children: new Map(), candidates: [] };

  /** `candidates[i]` is candidate i's token ids; `eosId` is appended to each as its terminator. */
  constructor(
    readonly candidates: readonly (readonly number[])[],
    readonly eosId: number,
  ) {
    if (candidates.length === 0) throw new Error("CandidateTrie: no candidates");
    candidates.forEach((tokens, i) => {
      let node = this.root;
      node.candidates.push(i);
      for (const t of [...tokens, eosId]) {
        let next = node.children.get(t);
        if (!next) {
          next = { children: new Map(), candidates: [] };
          node.children.set(t, next);
        }
        next.candidates.push(i);
        node = next;
      }
    });
  }

  /** A cursor at the root. */
  start(): TrieCursor {
    return new TrieCursor(this.root, this.eosId);
  }
}

export class TrieCursor {
  constructor(
    private node: TrieNode,
    private readonly eosId: number,
  ) {}

  /** Tokens allowed next. */
  allowed(): number[] {
    return [...this.node.children.keys()];
  }

  /** The candidates still possible (identical token sequences share a path). */
  remaining(): readonly number[] {
    return this.node.candidates;
  }

  /** When exactly one token path remains, its tokens up to (not including) EOS; else null. */
  forcedRest(): number[] | null {
    const rest: number[] = [];
    let node = this.node;
    while (node.children.size === 1) {
      const [[token, next]] = [...node.children];
      if (token === this.eosId) return rest;
      rest.push(token);
      node = next;
    }
    return node.children.size === 0 ? rest : null;
  }

  /** Moves along `token`; false (and no move) when the token is not allowed. */
  advance(token: number): boolean {
    const next = this.node.children.get(token);
    if (!next) return false;
    this.node = next;
    return true;
  }
}

/** Index of the largest of `logits[offset + t]` over allowed tokens `t` (lowest token on ties). */
export function argmaxAmong(
  logits: ArrayLike<number>,
  offset: number,
  allowed: readonly number[],
): number {
  let best = -1;
  let bestValue = -Infinity;
  for (const t of allowed) {
    const v = logits[offset + t];
    if (v > bestValue || (v === bestValue && t < best) || best < 0) {
      best = t;
      bestValue = v;
    }
  }
  return best;
}

/** Index of the largest of `logits[offset … offset+V)` (first one on ties). */
export function argmax(logits: ArrayLike<number>, offset: number, V: number): number {
  let best = 0;
  let bestValue = logits[offset];
  for (let t = 1; t < V; t++) {
    const v = logits[offset + t];
    if (v > bestValue) {
      best = t;
      bestValue = v;
    }
  }
  return best;
}
