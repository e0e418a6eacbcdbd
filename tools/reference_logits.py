#!/usr/bin/python3
"""Writes test fixtures: tiny LLaMA-family checkpoints and their logits computed by an
independent PyTorch implementation that follows transformers' modeling_llama / modeling_qwen2
(eager attention, rotate_half RoPE, repeat_kv, float32 RMSNorm).

Run once with Debian's python3-torch:  /usr/bin/python3 tools/reference_logits.py
prefrec itself never needs Python; the fixtures in test/fixtures/ are committed.
"""
import json
import math
import os
import struct

import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures")


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def rms_norm(x, w, eps):
    x32 = x.to(torch.float32)
    var = x32.pow(2).mean(-1, keepdim=True)
    return w * (x32 * torch.rsqrt(var + eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def forward(cfg, W, ids, mask):
    """Logits [B, T, V] for left- or right-padded ids with a 0/1 attention mask."""
    B, T = ids.shape
    H, KV, dh = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    eps = cfg["rms_norm_eps"]
    position_ids = (mask.cumsum(-1) - 1).clamp(min=0)
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, dh, 2, dtype=torch.int64).float() / dh))
    freqs = (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & mask[:, None, None, :].bool()
    bias = torch.zeros(B, 1, T, T).masked_fill(~allowed, torch.finfo(torch.float32).min)

    def linear(x, name):
        y = x @ W[name + ".weight"].T
        if name + ".bias" in W:
            y = y + W[name + ".bias"]
        return y

    x = W["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        h = rms_norm(x, W[p + ".input_layernorm.weight"], eps)
        q = linear(h, p + ".self_attn.q_proj").view(B, T, H, dh).transpose(1, 2)
        k = linear(h, p + ".self_attn.k_proj").view(B, T, KV, dh).transpose(1, 2)
        v = linear(h, p + ".self_attn.v_proj").view(B, T, KV, dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = (q @ k.transpose(2, 3)) / math.sqrt(dh) + bias
        att = torch.softmax(att, dim=-1, dtype=torch.float32)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * dh)
        x = x + linear(o, p + ".self_attn.o_proj")
        h = rms_norm(x, W[p + ".post_attention_layernorm.weight"], eps)
        gate = linear(h, p + ".mlp.gate_proj")
        x = x + linear(torch.nn.functional.silu(gate) * linear(h, p + ".mlp.up_proj"), p + ".mlp.down_proj")
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else W["lm_head.weight"]
    return x @ head.T


def make(name, cfg, seed):
    torch.manual_seed(seed)
    d, H, KV, dh, I, V = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim", "intermediate_size", "vocab_size"))
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    o_bias = cfg["model_type"] == "llama" and cfg.get("attention_bias", False)
    W = {"model.embed_tokens.weight": torch.randn(V, d) * 0.3}
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}"
        W[p + ".input_layernorm.weight"] = 1 + 0.2 * torch.randn(d)
        for proj, shape in (("q_proj", (H * dh, d)), ("k_proj", (KV * dh, d)), ("v_proj", (KV * dh, d)), ("o_proj", (d, H * dh))):
            W[f"{p}.self_attn.{proj}.weight"] = torch.randn(*shape) * 0.3
            if (proj != "o_proj" and qkv_bias) or (proj == "o_proj" and o_bias):
                W[f"{p}.self_attn.{proj}.bias"] = torch.randn(shape[0]) * 0.2
        W[p + ".post_attention_layernorm.weight"] = 1 + 0.2 * torch.randn(d)
        for proj, shape in (("gate_proj", (I, d)), ("up_proj", (I, d)), ("down_proj", (d, I))):
            W[f"{p}.mlp.{proj}.weight"] = torch.randn(*shape) * 0.3
    W["model.norm.weight"] = 1 + 0.2 * torch.randn(d)
    if not cfg["tie_word_embeddings"]:
        W["lm_head.weight"] = torch.randn(V, d) * 0.3

    ids = torch.tensor([[0, 0, 5, 9, 3, 17], [4, 8, 15, 16, 23, 30]])
    mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])
    with torch.no_grad():
        logits = forward(cfg, W, ids, mask)
    out = os.path.join(ROOT, name)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(out, "model.safetensors"), W)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump({"ids": ids.tolist(), "mask": mask.tolist(), "logits": [[[round(v, 7) for v in row] for row in seq] for seq in logits.tolist()]}, f)


base = {"vocab_size": 37, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 4, "intermediate_size": 24, "rope_theta": 10000.0,
        "rms_norm_eps": 1e-6, "max_position_embeddings": 64, "bos_token_id": 1, "eos_token_id": 2,
        "initializer_range": 0.02}
make("tiny-llama", {**base, "model_type": "llama", "architectures": ["LlamaForCausalLM"], "tie_word_embeddings": True, "attention_bias": True}, 0)
make("tiny-qwen2", {**base, "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "tie_word_embeddings": False, "rope_theta": 1000000.0}, 1)
print("fixtures written to", os.path.abspath(ROOT))
