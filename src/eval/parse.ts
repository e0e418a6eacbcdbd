// Reading a generated answer the way the papers' evaluation code does.
// S-DPO (evaluate_batch.py): case-sensitive substring matching on the whole continuation; valid
// when exactly one candidate occurs; a hit when valid and the target occurs. LLaRA
// (calculate_hr1): first line only, lower-cased and stripped; valid when exactly one candidate
// occurs; correct when that candidate is the target. Both normalize by all prompts.

export interface Verdict {
  /** Candidates found in the answer (indices into the candidate list). */
  matches: number[];
  valid: boolean;
  hit: boolean;
}

/** S-DPO's rule: `sum(can in selection) == 1` and `target in selection`. */
export function sdpoVerdict(
  answer: string,
  candidates: readonly string[],
  targetIndex: number,
): Verdict {
  const matches = candidates.flatMap((c, i) => (answer.includes(c) ? [i] : []));
  const valid = matches.length === 1;
  return { matches, valid, hit: valid && answer.includes(candidates[targetIndex]) };
}

/** LLaRA's rule: first line, lower-cased, stripped; the one matched candidate must be the target. */
export function llaraVerdict(
  answer: string,
  candidates: readonly string[],
  targetIndex: number,
): Verdict {
  const line = answer.split("\n")[0].toLowerCase().trim();
  const lowered = candidates.map((c) => c.toLowerCase().trim());
  const matches = lowered.flatMap((c, i) => (line.includes(c) ? [i] : []));
  const valid = matches.length === 1;
  return { matches, valid, hit: valid && lowered[matches[0]] === lowered[targetIndex] };
}
