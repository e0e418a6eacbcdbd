// Learning-rate schedule: linear warmup then cosine decay to zero, exactly as transformers'
// get_cosine_schedule_with_warmup (so the first warmup step has lr 0).

/** Learning rate at optimizer step `step` (0-based) of `total`, after `warmup` warmup steps. */
export function cosineWithWarmup(
  base: number,
  step: number,
  total: number,
  warmup: number,
): number {
  if (step < warmup) return (base * step) / Math.max(1, warmup);
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return base * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
}
