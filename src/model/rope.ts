// Rotary-embedding inverse frequencies, as transformers' rope init functions compute them.
import type { LmConfig } from "./config.js";

/** inv_freq[i] = 1 / theta^(2i / head_dim), i < head_dim/2, with linear or llama3 scaling applied. */
export function ropeInverseFrequencies(config: LmConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / config.ropeTheta ** ((2 * i) / config.headDim);
  const s = config.ropeScaling;
  if (s.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= s.factor;
  } else if (s.type === "llama3") {
    // transformers' _compute_llama3_parameters: long wavelengths are slowed by `factor`,
    // short ones kept, and the band between them interpolated smoothly.
    const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
    const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen > lowWavelen) {
        inv[i] /= s.factor;
      } else if (wavelen >= highWavelen) {
        const smooth =
          (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) /
          (s.highFreqFactor - s.lowFreqFactor);
        inv[i] = (1 - smooth) * (inv[i] / s.factor) + smooth * inv[i];
      }
    }
  }
  return inv;
}
