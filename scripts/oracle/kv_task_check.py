#!/usr/bin/env python3
"""Task-level check of block-selection scores inside the real model (SmolLM2-135M-Instruct, fp32).

Prefill is dense; every decode step runs block-sparse attention: for each layer and KV head, blocks
of 64 keys are scored, block 0 and the last two are always kept, and the best others up to
ceil((1 - sparsity) * blocks) are kept; attention runs over the kept tokens only. Scores compared:
dense, sink + window, Quest box bound, shrunk box beta 0.5 (max over the group, fp32 box; shrunk8: on
the uint8 box), the study's winner (shrunk box 0.5 on an outward-rounded uint8 box, group combined by summed softmax shares),
and the oracle (true block mass).

  1. pass-key retrieval: ~8K-token prompts with the key at several depths, 8 greedy tokens each
     (the first comes from the dense prefill);
  2. agreement with dense on Shakespeare: N teacher-forced decode steps after 8,191 tokens
     (share of steps whose argmax equals dense's, and mean KL(dense || sparse) of the next-token
     distributions).

Run: /tmp/ref/bin/python scripts/oracle/kv_task_check.py [--sparsity 0.9]
"""
import argparse
import math
import os
import random

import numpy as np
import torch
from transformers import AttentionInterface, AutoConfig, AutoModelForCausalLM, AutoTokenizer
from transformers.integrations.sdpa_attention import sdpa_attention_forward

SHARED = "/work/shared"
MODEL_DIR = os.path.join(SHARED, "models", "smollm2-135m-instruct")
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BLOCK = 64
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again. "

STATE = {"method": "dense", "sparsity": 0.9, "kept": []}


def block_scores(method, q, k, logits):
    """q: (3, D) one KV head's query group, k: (S, D), logits: (3, S) exact. -> (nb,) scores."""
    s, d = k.shape
    nb = -(-s // BLOCK)
    pad = nb * BLOCK - s
    kp = torch.cat([k, k[-1:].expand(pad, d)]) if pad else k
    kb = kp.view(nb, BLOCK, d)
    if method == "oracle":
        p = torch.softmax(logits, dim=1)
        p = torch.nn.functional.pad(p, (0, pad))
        return p.view(3, nb, BLOCK).sum(2).sum(0)
    lo, hi = kb.amin(1), kb.amax(1)                                       # (nb, D)
    if method in ("winner", "shrunk8"):  # uint8 codes on a per-block grid, lo rounded down, hi up
        off = lo.amin(1, keepdim=True)
        step = (hi.amax(1, keepdim=True) - off) / 255.0
        step = torch.where(step == 0, torch.ones_like(step), step)
        lo = off + torch.floor((lo - off) / step) * step
        hi = off + torch.ceil((hi - off) / step) * step
    c, h = (lo + hi) / 2, (hi - lo) / 2
    beta = {"quest": 1.0, "shrunk": 0.5, "shrunk8": 0.5, "winner": 0.5}[method]
    est = (q @ c.T + beta * (q.abs() @ h.T)) / math.sqrt(d)               # (3, nb)
    if method == "winner":
        return torch.softmax(est, dim=1).sum(0)
    return est.amax(0)


def sparse_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    method = STATE["method"]
    if method == "dense" or query.shape[2] != 1:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, **kwargs)
    _, n_heads, _, d = query.shape
    n_kv, s = key.shape[1], key.shape[2]
    group = n_heads // n_kv
    nb = -(-s // BLOCK)
    budget = math.ceil((1 - STATE["sparsity"]) * nb)
    out = torch.empty(1, 1, n_heads, d, dtype=query.dtype)
    for g in range(n_kv):
        q = query[0, g * group:(g + 1) * group, 0]                        # (3, D)
        k, v = key[0, g], value[0, g]                                     # (S, D)
        logits = (q @ k.T) * scaling                                      # (3, S)
        if method == "window":
            kept = sorted({0} | set(range(max(1, nb - (budget - 1)), nb)))
        else:
            score = block_scores(method, q, k, logits)
            forced = {0, nb - 2, nb - 1}
            middle = torch.arange(1, nb - 2)
            extra = max(0, budget - len(forced))
            best = middle[torch.argsort(score[1:nb - 2], descending=True)[:extra]].tolist()
            kept = sorted(forced | set(best))
        STATE["kept"].append(len(kept) / nb)
        idx = torch.cat([torch.arange(b * BLOCK, min(s, (b + 1) * BLOCK)) for b in kept])
        w = torch.softmax(logits[:, idx], dim=1)
        out[0, 0, g * group:(g + 1) * group] = w @ v[idx]
    return out, None


def passkey_prompt(tok, depth, key, target=7990):
    line = "The pass key is %d. Remember it. %d is the pass key. " % (key, key)
    question = "What is the pass key? The pass key is"
    per = len(tok.encode(FILLER, add_special_tokens=False))
    n = (target - 60) // per
    while True:
        before = round(n * depth)
        ids = tok.encode(FILLER * before + line + FILLER * (n - before) + question, add_special_tokens=False)
        if len(ids) <= target:
            return ids
        n -= 1


def rollback(cache, length):
    """Drop the decode steps' entries so the next method starts from the same prefilled cache."""
    extra = cache.get_seq_length() - length
    if extra > 0:
        cache.crop(-extra)


@torch.no_grad()
def decode(model, cache, first_logits, steps, forced_tokens=None):
    """Greedy (or teacher-forced) decode; returns (tokens, per-step log-probs)."""
    tokens, logps, logits = [], [], first_logits
    for i in range(steps):
        logps.append(torch.log_softmax(logits.double(), dim=-1))
        nxt = int(logits.argmax()) if forced_tokens is None else forced_tokens[i]
        tokens.append(int(logits.argmax()))
        out = model(torch.tensor([[nxt]]), past_key_values=cache, use_cache=True)
        logits = out.logits[0, -1]
    return tokens, logps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sparsity", type=float, default=0.9)
    parser.add_argument("--depths", default="0.1,0.3,0.5,0.7,0.9", help="pass-key depths ('' = skip)")
    parser.add_argument("--methods", default="dense,window,quest,shrunk,winner,oracle",
                        help="dense first; also shrunk8 = the uint8 box with the max over the group")
    parser.add_argument("--steps", type=int, default=32, help="teacher-forced steps per agreement text")
    parser.add_argument("--starts", default="500000", help="character offsets of the Shakespeare texts")
    args = parser.parse_args()
    torch.set_num_threads(2)
    STATE["sparsity"] = args.sparsity
    AttentionInterface.register("aether_study", sparse_attention)
    config = AutoConfig.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, config=config,
                                                 dtype=torch.float32, attn_implementation="sdpa").eval()
    model.config._attn_implementation = "aether_study"
    tok = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    methods = args.methods.split(",")
    rng = random.Random(7)

    print("## pass-key retrieval at %.0f%% block sparsity (decode only; prefill dense)\n" % (100 * args.sparsity))
    print("| depth | tokens | " + " | ".join(methods) + " |")
    print("|---|---|" + "---|" * len(methods))
    for depth in [float(x) for x in args.depths.split(",") if x]:
        key = rng.randint(10000, 99999)
        ids = passkey_prompt(tok, depth, key)
        STATE["method"] = "dense"
        with torch.no_grad():
            out = model(torch.tensor([ids]), use_cache=True)
        cache, first = out.past_key_values, out.logits[0, -1]
        cells = []
        for method in methods:
            STATE["method"] = method
            tokens, _ = decode(model, cache, first, 8)
            rollback(cache, len(ids))
            text = tok.decode(tokens)
            cells.append(("ok" if str(key) in text else "MISS %r" % text.strip()[:12]))
        print("| %.0f%% | %d | %s |" % (100 * depth, len(ids), " | ".join(cells)), flush=True)

    text = open(os.path.join(SHARED, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
    print("\n## agreement with dense: %d teacher-forced steps after 8,191 tokens of Shakespeare, "
          "%.0f%% sparsity\n" % (args.steps, 100 * args.sparsity))
    print("| text from char | method | argmax agreement | mean KL(dense‖sparse), nats | kept share |")
    print("|---|---|---|---|---|")
    for offset in [int(x) for x in args.starts.split(",")]:
        start = text.index("\n\n", offset) + 2
        ids = tok.encode(text[start:start + 60000], add_special_tokens=False)[:8191]
        STATE["method"] = "dense"
        with torch.no_grad():
            out = model(torch.tensor([ids]), use_cache=True)
        cache, first = out.past_key_values, out.logits[0, -1]
        # Step 0's distribution comes from the dense prefill, so steps + 1 are run and step 0 is dropped.
        dense_tokens, dense_logps = decode(model, cache, first, args.steps + 1)
        rollback(cache, len(ids))
        for method in methods[1:]:
            STATE["method"], STATE["kept"] = method, []
            tokens, logps = decode(model, cache, first, args.steps + 1, forced_tokens=dense_tokens)
            rollback(cache, len(ids))
            agree = np.mean([a == b for a, b in zip(tokens[1:], dense_tokens[1:])])
            kl = np.mean([float((dp.exp() * (dp - sp)).sum()) for dp, sp in zip(dense_logps[1:], logps[1:])])
            print("| %d | %s | %.3f | %.4f | %.3f |" % (start, method, agree, kl, np.mean(STATE["kept"])), flush=True)


if __name__ == "__main__":
    main()
