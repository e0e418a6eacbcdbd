// AdamW over named Float32Array parameters, updated in place, and global-norm clipping.

export type GradientArray = Float32Array | Float64Array;

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (Loshchilov & Hutter), applied as p ← p·(1 − lr·wd). */
  weightDecay?: number;
  /** Which parameters get weight decay (default: all). Norm gains and biases usually do not. */
  decays?: (name: string) => boolean;
}

/** Serializable optimizer state: hyper-parameters, step count and moment tensors. */
export interface AdamWState {
  step: number;
  hyper: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number };
  /** `m.<param>` and `v.<param>` moment tensors. */
  tensors: Record<string, Float32Array>;
}

/** AdamW with bias correction, matching torch.optim.AdamW's update order. */
export class AdamW {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private readonly hyper: AdamWState["hyper"];
  private readonly decays: (name: string) => boolean;
  private stepCount = 0;

  constructor(
    readonly params: ReadonlyMap<string, Float32Array>,
    options: AdamWOptions,
  ) {
    this.hyper = {
      lr: options.lr,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.01,
    };
    this.decays = options.decays ?? (() => true);
    for (const [name, p] of params) {
      this.m.set(name, new Float32Array(p.length));
      this.v.set(name, new Float32Array(p.length));
    }
  }

  get step(): number {
    return this.stepCount;
  }

  /** One update from gradients keyed like the parameters; `lr` overrides the base rate (schedules). */
  update(grads: Readonly<Record<string, GradientArray>>, lr = this.hyper.lr): void {
    for (const name of Object.keys(grads)) {
      if (!this.params.has(name))
        throw new Error(`AdamW: gradient for unknown parameter "${name}"`);
    }
    this.stepCount++;
    const { beta1, beta2, eps, weightDecay } = this.hyper;
    const c1 = 1 - beta1 ** this.stepCount;
    const c2 = 1 - beta2 ** this.stepCount;
    const stepSize = lr / c1;
    const invSqrtC2 = 1 / Math.sqrt(c2);
    for (const [name, p] of this.params) {
      const g = grads[name];
      if (!g) throw new Error(`AdamW: no gradient for parameter "${name}"`);
      if (g.length !== p.length) {
        throw new Error(
          `AdamW: gradient for "${name}" has ${g.length} values, parameter ${p.length}`,
        );
      }
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      const keep = this.decays(name) ? 1 - lr * weightDecay : 1;
      for (let i = 0; i < p.length; i++) {
        const gi = g[i];
        const mi = beta1 * m[i] + (1 - beta1) * gi;
        const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * keep - (stepSize * mi) / (Math.sqrt(vi) * invSqrtC2 + eps);
      }
    }
  }

  /** A copy of the state, for checkpoints. */
  state(): AdamWState {
    const tensors: Record<string, Float32Array> = {};
    for (const [name, m] of this.m) tensors[`m.${name}`] = m.slice();
    for (const [name, v] of this.v) tensors[`v.${name}`] = v.slice();
    return { step: this.stepCount, hyper: { ...this.hyper }, tensors };
  }

  /** Restores a state saved by `state()` for the same parameters. */
  load(state: AdamWState): void {
    for (const [name, p] of this.params) {
      for (const kind of ["m", "v"] as const) {
        const t = state.tensors[`${kind}.${name}`];
        if (!t || t.length !== p.length) {
          throw new Error(`AdamW state: "${kind}.${name}" is missing or has the wrong size`);
        }
        (kind === "m" ? this.m : this.v).get(name)!.set(t);
      }
    }
    this.stepCount = state.step;
    Object.assign(this.hyper, state.hyper);
  }
}

/** √(Σ g²) over all gradients. */
export function globalNorm(grads: Readonly<Record<string, GradientArray>>): number {
  let sum = 0;
  for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) sum += g[i] * g[i];
  return Math.sqrt(sum);
}

/** Scales gradients in place so their global norm is at most `maxNorm`; returns the norm before. */
export function clipGradNorm(
  grads: Readonly<Record<string, GradientArray>>,
  maxNorm: number,
): number {
  const norm = globalNorm(grads);
  if (norm > maxNorm && norm > 0) {
    const scale = maxNorm / (norm + 1e-6);
    for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] *= scale;
  }
  return norm;
}
