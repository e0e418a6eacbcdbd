// Small configs and weights for model tests.
import { type LmConfig, parseLmConfig } from "../../src/model/config.js";

/** A micro llama (or qwen2) config: vocab 50, hidden 16, 2 layers, 4 heads, 2 kv heads. */
export function microConfig(overrides: Record<string, unknown> = {}): LmConfig {
  return parseLmConfig({
    model_type: "llama",
    vocab_size: 50,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 24,
    tie_word_embeddings: false,
    bos_token_id: 1,
    eos_token_id: 2,
    pad_token_id: 0,
    ...overrides,
  });
}
