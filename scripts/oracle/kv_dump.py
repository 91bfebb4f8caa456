#!/usr/bin/env python3
"""Real KV-cache dumps of SmolLM2-135M-Instruct for the AETHER block-selection research.

Prefills the model (GGUF Q4_1 weights dequantised to fp32, fp32 transformers forward) with a prompt,
takes the greedy next token and runs one decode step with it. Writes an .npz with
  keys    float32 (layers, kv_heads=3, S, 64)  post-RoPE keys of all S = prompt + 1 positions
  values  float32 (layers, kv_heads=3, S, 64)
  queries float32 (layers, heads=9, 64)       post-RoPE queries of the decode step (unscaled)
  layers int32 (layers,) layer indices; block_size int32 () = 64 (the study's block size, a hint);
  token_ids int32 (S,) the prompt ids plus the decode token; head_dim, rope_theta;
  prefill_queries float32 (layers, heads, P, 64) post-RoPE queries of P prefill positions
  prefill_positions int32 (P,) (every 8th of the last 512; the query at p attends to keys 0..p),
  extra samples for the study (P = 64; 8 for the small dump).
Query head h belongs to KV head h // 3 (transformers' repeat_kv order); the decode step's
softmax is softmax(q . k / sqrt(64)) over all S keys (causal: the decode token sees itself).
The capture is checked: softmax(q K^T / 8) V from the dump must equal the input of o_proj that
the model computed at the decode step (max abs error printed).

Run: /tmp/ref/bin/python scripts/oracle/kv_dump.py [--out-dir /work/kvdumps]
"""
import argparse
import os

import numpy as np
import torch
import transformers.models.llama.modeling_llama as llama_mod
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

SHARED = "/work/shared"
MODEL_DIR = os.path.join(SHARED, "models", "smollm2-135m-instruct")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "
KEY_LINE = "The pass key is 68431. Remember it. 68431 is the pass key. "
QUESTION = "What is the pass key? The pass key is"


class Capture:
    """Records post-RoPE queries of single-token steps and the o_proj input of every layer."""

    def __init__(self, model):
        self.queries, self.attn_in, self.active = [], [], False
        self.prefill_queries, self.prefill_positions = [], None
        original = llama_mod.apply_rotary_pos_emb

        def patched(q, k, cos, sin, *args, **kwargs):
            q_embed, k_embed = original(q, k, cos, sin, *args, **kwargs)
            if self.active:
                self.queries.append(q_embed[0, :, -1, :].detach().float().numpy().copy())  # (heads, D)
            elif self.prefill_positions is not None:
                picked = q_embed[0][:, self.prefill_positions, :]  # (heads, P, D)
                self.prefill_queries.append(picked.detach().float().numpy().copy())
            return q_embed, k_embed

        llama_mod.apply_rotary_pos_emb = patched
        for layer in model.model.layers:
            layer.self_attn.o_proj.register_forward_pre_hook(self._hook)

    def _hook(self, module, args):
        if self.active:
            self.attn_in.append(args[0][0, -1].detach().float().numpy().copy())  # (heads * D,)


def cache_tensors(cache, layer):
    if hasattr(cache, "layers"):
        return cache.layers[layer].keys, cache.layers[layer].values
    return cache.key_cache[layer], cache.value_cache[layer]


@torch.no_grad()
def dump(model, capture, ids, out_path, layers=None, note=""):
    capture.queries.clear()
    capture.attn_in.clear()
    capture.prefill_queries.clear()
    capture.active = False
    # Extra query samples: 64 prefill positions, every 8th of the last 512 (each sees keys 0..p).
    positions = np.arange(len(ids) - 512, len(ids), 8) if len(ids) >= 1024 else np.arange(len(ids) - 64, len(ids), 8)
    capture.prefill_positions = torch.tensor(positions)
    out = model(torch.tensor([ids]), use_cache=True)
    capture.prefill_positions = None
    next_id = int(out.logits[0, -1].argmax())
    capture.active = True
    out2 = model(torch.tensor([[next_id]]), past_key_values=out.past_key_values, use_cache=True)
    capture.active = False
    cache = out2.past_key_values
    n_layers = model.config.num_hidden_layers
    layers = list(range(n_layers)) if layers is None else layers
    keys = np.stack([cache_tensors(cache, l)[0][0].float().numpy() for l in layers])      # (L, KVH, S, D)
    values = np.stack([cache_tensors(cache, l)[1][0].float().numpy() for l in layers])    # (L, KVH, S, D)
    queries = np.stack([capture.queries[l] for l in layers])                              # (L, H, D)
    assert len(capture.queries) == n_layers, len(capture.queries)
    # Check: recompute the decode step's attention output from the dump.
    worst = 0.0
    d = keys.shape[-1]
    group = queries.shape[1] // keys.shape[1]
    for i, l in enumerate(layers):
        for h in range(queries.shape[1]):
            k, v = keys[i, h // group].astype(np.float64), values[i, h // group].astype(np.float64)
            logits = k @ queries[i, h].astype(np.float64) / np.sqrt(d)
            w = np.exp(logits - logits.max())
            w /= w.sum()
            worst = max(worst, float(np.abs(w @ v - capture.attn_in[l][h * d:(h + 1) * d]).max()))
    token_ids = np.array(list(ids) + [next_id], dtype=np.int32)
    extra = np.stack([capture.prefill_queries[l] for l in layers])                  # (L, H, P, D)
    np.savez(out_path, prefill_queries=extra.astype(np.float32), prefill_positions=positions.astype(np.int32), keys=keys.astype(np.float32), values=values.astype(np.float32),
             queries=queries.astype(np.float32), layers=np.array(layers, dtype=np.int32),
             block_size=np.int32(64), token_ids=token_ids, head_dim=np.int32(d),
             rope_theta=np.float32(model.config.rope_parameters["rope_theta"]))
    print("%s: keys %s queries %s decode token %d, attention-output check max abs err %.2e %s" %
          (out_path, keys.shape, queries.shape, next_id, worst, note))
    return next_id, out2


@torch.no_grad()
def continue_greedy(model, out, first, steps):
    tokens, past, nxt = [first], out.past_key_values, int(out.logits[0, -1].argmax())
    for _ in range(steps):
        tokens.append(nxt)
        out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past, nxt = out.past_key_values, int(out.logits[0, -1].argmax())
    return tokens


def passkey_ids(tok, target):
    """Filler repeated n times with the key line after n // 2 repeats; the largest n within target tokens."""
    def build(n):
        text = FILLER * (n // 2) + KEY_LINE + FILLER * (n - n // 2) + QUESTION
        return text, tok.encode(text, add_special_tokens=False), n // 2

    n = target // len(tok.encode(FILLER, add_special_tokens=False))
    while len(build(n + 1)[1]) <= target:
        n += 1
    while len(build(n)[1]) > target:
        n -= 1
    return build(n)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", default="/work/kvdumps")
    parser.add_argument("--held-out-only", action="store_true",
                        help="only write smollm2-shakespeare-mid-8k.npz (8,191 tokens from character 500,000)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out_dir, exist_ok=True)
    config = AutoConfig.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, config=config,
                                                 dtype=torch.float32, attn_implementation="sdpa").eval()
    tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    capture = Capture(model)
    text = open(os.path.join(SHARED, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
    shakespeare = tok.encode(text[:60000], add_special_tokens=False)
    if args.held_out_only:
        start = text.index("\n\n", 500000) + 2  # from the start of a speech
        mid = tok.encode(text[start:start + 60000], add_special_tokens=False)
        dump(model, capture, mid[:8191], os.path.join(args.out_dir, "smollm2-shakespeare-mid-8k.npz"),
             note="(8,191 tokens of tinyshakespeare from character %d + decode)" % start)
        return

    dump(model, capture, shakespeare[:1023], os.path.join(args.out_dir, "smollm2-small.npz"), layers=[0, 1],
         note="(first 1,023 tokens of tinyshakespeare + decode, layers 0-1)")
    dump(model, capture, shakespeare[:8191], os.path.join(args.out_dir, "smollm2-shakespeare-8k.npz"),
         note="(first 8,191 tokens of tinyshakespeare + decode)")
    pk_text, pk_ids, before = passkey_ids(tok, 7990)
    first, out = dump(model, capture, pk_ids, os.path.join(args.out_dir, "smollm2-passkey-8k.npz"),
                      note="(%d-token pass-key prompt, key after %d filler repeats)" % (len(pk_ids), before))
    answer = continue_greedy(model, out, first, 8)
    print("pass-key prompt: %d tokens, key line at token %d; greedy answer %r" %
          (len(pk_ids), len(tok.encode(FILLER * before, add_special_tokens=False)), tok.decode(answer)))


if __name__ == "__main__":
    main()
