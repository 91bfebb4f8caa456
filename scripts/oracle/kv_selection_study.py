#!/usr/bin/env python3
"""Which cheap block score keeps the most attention mass on a real KV cache?

Reads the dumps written by kv_dump.py (SmolLM2-135M-Instruct, post-RoPE keys, decode-step and
prefill queries) and, for every layer and KV head, ranks 64-token blocks by each candidate score,
keeps the first block and the last two always, and measures the share of each query head's exact
softmax mass inside the kept blocks. One selection per KV head (scores of its 3 query heads are
combined, by max unless the method says otherwise).

Two budgets:
  - equal blocks: ceil((1 - sparsity) * blocks) blocks for every method (80% and 90% sparsity);
  - equal bytes read: kept K+V blocks plus the metadata the score reads for every block, as a share
    of dense K+V bytes. Metadata is counted in values of the same width as the cache (fp16 K+V and
    fp16 metadata; int8 metadata counts half). One block of one KV head holds 2 * 64 * 64 values.

Run: /tmp/ref/bin/python scripts/oracle/kv_selection_study.py /work/kvdumps/smollm2-shakespeare-8k.npz \
         /work/kvdumps/smollm2-passkey-8k.npz [--prefill-queries N]
"""
import argparse
import functools
import math
import sys

import numpy as np

BLOCK = 64
BLOCK_VALUES = 2 * BLOCK * 64  # K + V values of one block of one KV head (D = 64)


# ---------------------------------------------------------------- per-(layer, KV head) metadata

class HeadMeta:
    """Per-block summaries of one KV head's keys. keys: (S, D) float32. Costly ones are computed on use."""

    def __init__(self, keys):
        s, d = keys.shape
        nb = -(-s // BLOCK)
        pad = nb * BLOCK - s
        if pad:  # repeat the last key: min/max/norms unchanged; the partial block is always kept anyway
            keys = np.concatenate([keys, np.repeat(keys[-1:], pad, axis=0)])
        kb = keys.reshape(nb, BLOCK, d).astype(np.float64)               # (nb, 64, D)
        self.nb, self.d = nb, d
        self.kb = kb
        self.lo, self.hi = kb.min(1), kb.max(1)                           # (nb, D)
        self.c, self.h = (self.lo + self.hi) / 2, (self.hi - self.lo) / 2  # box centre, half-width
        self.mu = kb.mean(1)                                              # (nb, D)
        self.sigma = kb.std(1)                                            # (nb, D)
        self.radius = np.linalg.norm(kb - self.mu[:, None], axis=2).max(1)  # (nb,)
        # Outward-rounded quantised boxes (still a true bound): (bits, "block" | "channel") -> (c, h).
        self.qbox = {}
        for bits in (8, 4):
            for mode in ("block", "channel"):
                lo, hi = quantise_box_outward(self.lo, self.hi, bits, mode)
                self.qbox[(bits, mode)] = ((lo + hi) / 2, (hi - lo) / 2)

    @functools.cached_property
    def pair_rmax(self):
        """Max norm of each RoPE pair (rotate_half layout: channel i pairs with i + D/2): (nb, D/2)."""
        half = self.d // 2
        return np.sqrt(self.kb[:, :, :half] ** 2 + self.kb[:, :, half:] ** 2).max(1)

    @functools.cached_property
    def rotated_box(self):
        """Per-head PCA basis of all keys (one D x D matrix per head) and the boxes in it."""
        _, vecs = np.linalg.eigh(np.cov(self.kb.reshape(-1, self.d).T))   # columns = axes
        kr = self.kb @ vecs
        lo, hi = kr.min(1), kr.max(1)
        return vecs, (lo + hi) / 2, (hi - lo) / 2

    @functools.cached_property
    def sub(self):
        """Sub-block boxes: parts -> (c, h), each (nb, parts, D)."""
        out = {}
        for parts in (2, 4):
            ks = self.kb.reshape(self.nb, parts, BLOCK // parts, self.d)
            lo, hi = ks.min(2), ks.max(2)
            out[parts] = ((lo + hi) / 2, (hi - lo) / 2)
        return out

    @functools.cached_property
    def qsub(self):
        """Quantised outward sub-block boxes, per-channel grid: (parts, bits) -> (c, h), (nb, parts, D)."""
        out = {}
        for parts in (2, 4):
            ks = self.kb.reshape(self.nb, parts, BLOCK // parts, self.d)
            lo, hi = ks.min(2).reshape(-1, self.d), ks.max(2).reshape(-1, self.d)
            for bits in (4, 8):
                lo_q, hi_q = quantise_box_outward(lo, hi, bits, "channel")
                out[(parts, bits)] = (((lo_q + hi_q) / 2).reshape(self.nb, parts, self.d),
                                      ((hi_q - lo_q) / 2).reshape(self.nb, parts, self.d))
        return out

    @functools.cached_property
    def cylinder(self):
        """Centre, the block's principal direction u (nb, D), reach along u and radius across it (nb,)."""
        dev = self.kb - self.c[:, None]
        _, _, vt = np.linalg.svd(self.kb - self.mu[:, None], full_matrices=False)
        u = vt[:, 0]
        along = np.einsum("btd,bd->bt", dev, u)
        return u, np.abs(along).max(1), np.linalg.norm(dev - along[..., None] * u[:, None], axis=2).max(1)

    @functools.cached_property
    def symmetric_int8(self):
        """Box centre and half-width each in int8 with one scale per block: (c, h)."""
        return quantise_int8(self.c), quantise_int8(self.h)


def quantise_box_outward(lo, hi, bits, mode):
    """Unsigned codes on an affine grid, lo rounded down and hi up, so the box still contains the keys.

    mode "block": one (offset, step) pair per block over all channels (2 fp16 per block);
    mode "channel": one (offset, step) per channel per head, fixed for the whole cache (negligible bytes).
    """
    levels = (1 << bits) - 1
    if mode == "block":
        base, top = lo.min(1, keepdims=True), hi.max(1, keepdims=True)
    else:
        base, top = lo.min(0, keepdims=True), hi.max(0, keepdims=True)
    step = (top - base) / levels
    step[step == 0] = 1.0
    lo_q = base + np.floor((lo - base) / step) * step
    hi_q = base + np.ceil((hi - base) / step) * step
    return lo_q, hi_q


def quantise_int8(x):
    scale = np.abs(x).max(1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.round(x / scale).clip(-127, 127) * scale


# ---------------------------------------------------------------- scores: (3, D) queries -> (3, nb)

INV_SQRT_D = 1.0 / 8.0


def box_upper(q, m):
    return (q @ m.c.T + np.abs(q) @ m.h.T) * INV_SQRT_D


def shrunk(beta, centre="c", width="h"):
    """Centre plus beta times the box's reach; centre "c" (box), "mu" (mean) or "int8" (int8 box)."""
    def score(q, m):
        if centre == "int8":
            c, h = m.symmetric_int8
        else:
            c, h = getattr(m, centre), getattr(m, width)
        return (q @ c.T + beta * (np.abs(q) @ h.T)) * INV_SQRT_D
    return score


def box_l2(gamma):
    """Centre plus gamma * ||q o h||_2: the deviation of independent channels, not all at once."""
    def score(q, m):
        return (q @ m.c.T + gamma * np.sqrt((q * q) @ (m.h * m.h).T)) * INV_SQRT_D
    return score


def ball(q, m):
    return (q @ m.mu.T + np.linalg.norm(q, axis=1, keepdims=True) * m.radius[None]) * INV_SQRT_D


def gauss(z):
    def score(q, m):
        return (q @ m.mu.T + z * np.sqrt((q * q) @ (m.sigma ** 2).T)) * INV_SQRT_D
    return score


def rotated_shrunk(beta):
    def score(q, m):
        rot, rc, rh = m.rotated_box
        qr = q @ rot
        return (qr @ rc.T + beta * (np.abs(qr) @ rh.T)) * INV_SQRT_D
    return score


def sub_shrunk(parts, beta):
    def score(q, m):
        c, h = m.sub[parts]                                               # (nb, parts, D)
        s = np.einsum("qd,bpd->qbp", q, c) + beta * np.einsum("qd,bpd->qbp", np.abs(q), h)
        return s.max(2) * INV_SQRT_D
    return score


def pair_capped_shrunk(beta):
    """Shrunk box, with each RoPE pair's reach capped by |q_pair| * max pair norm - |centre part|."""
    def score(q, m):
        half = m.d // 2
        box_reach = np.abs(q)[:, None, :] * m.h[None]                     # (3, nb, D)
        pair_box = box_reach[..., :half] + box_reach[..., half:]
        qn = np.sqrt(q[:, :half] ** 2 + q[:, half:] ** 2)                 # (3, D/2)
        centre = q[:, None, :] * m.c[None]
        pair_centre = centre[..., :half] + centre[..., half:]
        cap = qn[:, None, :] * m.pair_rmax[None] - pair_centre
        reach = np.minimum(pair_box, np.maximum(cap, 0.0)).sum(2)
        return (q @ m.c.T + beta * reach) * INV_SQRT_D
    return score


def exact_max(q, m):
    return np.einsum("qd,btd->qbt", q, m.kb).max(2) * INV_SQRT_D


def rank_mix(f, g, w=0.5):
    def score(q, m):
        a, b = f(q, m), g(q, m)
        ra = a.argsort(1).argsort(1)
        rb = b.argsort(1).argsort(1)
        return (w * ra + (1 - w) * rb).astype(np.float64)
    return score


# ---------------------------------------------------------------- combining a group's 3 heads

def combine_max(s):
    return s.max(0)


def combine_softmax_sum(s):
    """Each head's scores as a softmax over the blocks (an estimated mass share), summed."""
    e = np.exp(s - s.max(1, keepdims=True))
    return (e / e.sum(1, keepdims=True)).sum(0)


def combine_headnorm_max(s):
    """Scores minus each head's log-sum-exp over the blocks (estimated log share), then max."""
    lse = s.max(1, keepdims=True) + np.log(np.exp(s - s.max(1, keepdims=True)).sum(1, keepdims=True))
    return (s - lse).max(0)


# ---------------------------------------------------------------- methods

BOX_META = 2 * 64   # fp16 values per block per KV head: box lo/hi (or centre/half-width)
CENTRE_META = 64    # centre (or mean) only


def qbox_shrunk(bits, mode, beta):
    def score(q, m):
        c, h = m.qbox[(bits, mode)]
        return (q @ c.T + beta * (np.abs(q) @ h.T)) * INV_SQRT_D
    return score


def qsub_lse(parts, bits, beta):
    """Sub-block shrunk scores merged by log-sum-exp (a mass, not a max), per block."""
    def score(q, m):
        c, h = m.qsub[(parts, bits)]
        sub = (np.einsum("qd,bpd->qbp", q, c) + beta * np.einsum("qd,bpd->qbp", np.abs(q), h)) * INV_SQRT_D
        top = sub.max(2, keepdims=True)
        return (top + np.log(np.exp(sub - top).sum(2, keepdims=True)))[..., 0] - math.log(parts)
    return score


def cylinder(beta):
    def score(q, m):
        u, reach, radius = m.cylinder
        qu = q @ u.T                                                      # (3, nb)
        across = np.sqrt(np.maximum((q * q).sum(1, keepdims=True) - qu ** 2, 0.0))
        return (q @ m.c.T + beta * (np.abs(qu) * reach + across * radius)) * INV_SQRT_D
    return score


def qbox_meta(bits, mode):
    """fp16-value equivalents per block: 2 * D codes of `bits` bits (+ offset and step per block)."""
    return (2 * 64 * bits / 8 + (4 if mode == "block" else 0)) / 2


def box_l2_int8(q, m):
    c, h = m.symmetric_int8
    return (q @ c.T + 2.0 * np.sqrt((q * q) @ (h * h).T)) * INV_SQRT_D


def centre_int8(q, m):
    return (q @ m.symmetric_int8[0].T) * INV_SQRT_D


def gauss_logmass(scale):
    """log sum exp over a Gaussian block: q.mu/8 + scale * (q^2 . sigma^2) / (2 * 64)."""
    def score(q, m):
        return q @ m.mu.T * INV_SQRT_D + scale * ((q * q) @ (m.sigma ** 2).T) / 128.0
    return score


def softmax_sum(tau):
    def combine(s):
        s = s / tau
        e = np.exp(s - s.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True)).sum(0)
    return combine


def method(score, combine=combine_max, meta=0, window=0, calibrate=None):
    """window: this many most recent blocks are always kept (besides block 0 and the last two).

    calibrate: delta, or None. When set, the group's scores are combined as estimated mass shares
    whose denominator holds the EXACT mass of the always-kept blocks (their logits are computed by
    the attention anyway): share_jb = w_jb / (1 + sum_b' w_jb'), w_jb = exp(s_jb + ln 64 - delta -
    lse_j(exact logits of the always-kept tokens)); the block score is the sum of shares over j.
    """
    return {"score": score, "combine": combine, "meta": meta, "window": window, "calibrate": calibrate}


def calibrated_shares(s, forced_lse, delta):
    w = s + math.log(BLOCK) - delta - forced_lse[:, None]                 # (3, nb) log w
    top = np.maximum(w.max(1, keepdims=True), 0.0)
    e = np.exp(w - top)
    return (e / (np.exp(-top) + e.sum(1, keepdims=True))).sum(0)


METHODS = {
    "oracle (true block mass, summed over the group)": method("oracle"),
    "exact max logit (not cheap)": method(exact_max),
    "Quest box (upper bound)": method(box_upper, meta=BOX_META),
    "ball bound": method(ball, meta=64 + 1),
    "shrunk box beta 0.5": method(shrunk(0.5), meta=BOX_META),
    "shrunk box beta 0.25": method(shrunk(0.25), meta=BOX_META),
    "box centre only (beta 0)": method(shrunk(0.0), meta=CENTRE_META),
    "block mean only": method(shrunk(0.0, centre="mu"), meta=CENTRE_META),
    "mean + 0.5 box reach": method(shrunk(0.5, centre="mu"), meta=BOX_META),
    "box L2 reach, gamma 1": method(box_l2(1.0), meta=BOX_META),
    "box L2 reach, gamma 2": method(box_l2(2.0), meta=BOX_META),
    "gauss max: mean + 2.5 sigma": method(gauss(2.5), meta=BOX_META),
    "gauss log-mass (mean, var)": method(gauss_logmass(1.0), meta=BOX_META),
    "PCA-basis shrunk box 0.5": method(rotated_shrunk(0.5), meta=BOX_META),
    "2 sub-block shrunk boxes 0.5": method(sub_shrunk(2, 0.5), meta=2 * BOX_META),
    "RoPE-pair-capped shrunk box 0.5": method(pair_capped_shrunk(0.5), meta=BOX_META + 32),
    "rank mix box + ball": method(rank_mix(box_upper, ball), meta=BOX_META + 65),
    "shrunk box 0.5, int8 metadata": method(shrunk(0.5, centre="int8"), meta=BOX_META // 2 + 2),
    "shrunk box 0.5, softmax-sum over group": method(shrunk(0.5), combine_softmax_sum, BOX_META),
    "shrunk box 0.25, softmax-sum": method(shrunk(0.25), combine_softmax_sum, BOX_META),
    "shrunk box 0.5, head-normalised max": method(shrunk(0.5), combine_headnorm_max, BOX_META),
    "centre only, softmax-sum": method(shrunk(0.0), combine_softmax_sum, CENTRE_META),
    "centre only, softmax-sum tau 2": method(shrunk(0.0), softmax_sum(2.0), CENTRE_META),
    "centre only, softmax-sum tau 0.5": method(shrunk(0.0), softmax_sum(0.5), CENTRE_META),
    "centre int8, softmax-sum": method(centre_int8, combine_softmax_sum, CENTRE_META // 2 + 1),
    "box L2 gamma 2, int8, head-norm max": method(box_l2_int8, combine_headnorm_max, BOX_META // 2 + 2),
    "shrunk box 0.5 + window 4": method(shrunk(0.5), meta=BOX_META, window=4),
    "shrunk box 0.5 + window 8": method(shrunk(0.5), meta=BOX_META, window=8),
    "centre softmax-sum + window 4": method(shrunk(0.0), combine_softmax_sum, CENTRE_META, window=4),
    "centre softmax-sum + window 8": method(shrunk(0.0), combine_softmax_sum, CENTRE_META, window=8),
    "centre int8 softmax-sum + window 8": method(centre_int8, combine_softmax_sum, CENTRE_META // 2 + 1, window=8),
    "shrunk 0.25, uint8 box/block, softmax-sum": method(qbox_shrunk(8, "block", 0.25), combine_softmax_sum, qbox_meta(8, "block")),
    "shrunk 0.5, uint8 box/block, softmax-sum": method(qbox_shrunk(8, "block", 0.5), combine_softmax_sum, qbox_meta(8, "block")),
    "shrunk 0.5, uint8 box/channel, softmax-sum": method(qbox_shrunk(8, "channel", 0.5), combine_softmax_sum, qbox_meta(8, "channel")),
    "shrunk 0.5, uint4 box/block, softmax-sum": method(qbox_shrunk(4, "block", 0.5), combine_softmax_sum, qbox_meta(4, "block")),
    "shrunk 0.5, uint4 box/channel, softmax-sum": method(qbox_shrunk(4, "channel", 0.5), combine_softmax_sum, qbox_meta(4, "channel")),
    "shrunk 0.25, uint4 box/channel, softmax-sum": method(qbox_shrunk(4, "channel", 0.25), combine_softmax_sum, qbox_meta(4, "channel")),
    "Quest bound, uint8 box/channel": method(qbox_shrunk(8, "channel", 1.0), combine_max, qbox_meta(8, "channel")),
    "Quest bound, uint4 box/channel": method(qbox_shrunk(4, "channel", 1.0), combine_max, qbox_meta(4, "channel")),
    "shrunk 0.5, uint4/channel, calibrated delta 0": method(qbox_shrunk(4, "channel", 0.5), meta=qbox_meta(4, "channel"), calibrate=0.0),
    "shrunk 0.5, uint4/channel, calibrated delta 2": method(qbox_shrunk(4, "channel", 0.5), meta=qbox_meta(4, "channel"), calibrate=2.0),
    "shrunk 0.5, uint4/channel, calibrated delta 4": method(qbox_shrunk(4, "channel", 0.5), meta=qbox_meta(4, "channel"), calibrate=4.0),
    "shrunk 0.5, uint8/channel, calibrated delta 2": method(qbox_shrunk(8, "channel", 0.5), meta=qbox_meta(8, "channel"), calibrate=2.0),
    "2 sub-boxes uint4 0.5, lse, softmax-sum": method(qsub_lse(2, 4, 0.5), combine_softmax_sum, 2 * qbox_meta(4, "channel")),
    "4 sub-boxes uint4 0.5, lse, softmax-sum": method(qsub_lse(4, 4, 0.5), combine_softmax_sum, 4 * qbox_meta(4, "channel")),
    "2 sub-boxes uint4 0.25, lse, softmax-sum": method(qsub_lse(2, 4, 0.25), combine_softmax_sum, 2 * qbox_meta(4, "channel")),
    "2 sub-boxes uint4 0.5, lse, calibrated 2": method(qsub_lse(2, 4, 0.5), meta=2 * qbox_meta(4, "channel"), calibrate=2.0),
    "cylinder bound (centre, principal axis)": method(cylinder(1.0), meta=2 * 64 + 2),
    "cylinder 0.5, softmax-sum": method(cylinder(0.5), combine_softmax_sum, 2 * 64 + 2),
    "cylinder 0.25, softmax-sum": method(cylinder(0.25), combine_softmax_sum, 2 * 64 + 2),
    "shrunk 0.75, uint8 box/block, softmax-sum": method(qbox_shrunk(8, "block", 0.75), combine_softmax_sum, qbox_meta(8, "block")),
    "shrunk 0.5, uint8 box/block, max over group": method(qbox_shrunk(8, "block", 0.5), combine_max, qbox_meta(8, "block")),
    "sink + last two only": method("forced"),
    "sink + window": method("window"),
}


# ---------------------------------------------------------------- evaluation

def select(score, nb, keep, window=0):
    """Blocks kept: 0, the last max(2, window) and the best others by score up to keep. score: (nb,)."""
    recent = min(max(2, window), keep - 1)
    forced = {0} | set(range(nb - recent, nb))
    extra = max(0, keep - len(forced))
    middle = np.arange(1, nb - recent)
    order = middle[np.argsort(-score[1:nb - recent], kind="stable")][:extra]
    return np.array(sorted(forced | set(order.tolist())))


def budgets(nb, meta_values):
    out = {}
    for sparsity in (0.8, 0.9):
        out["blocks@%d%%" % round(sparsity * 100)] = math.ceil((1 - sparsity) * nb)
    meta_share = meta_values / BLOCK_VALUES
    for read in (0.10, 0.20, 0.25, 0.30):
        out["bytes@%d%%" % round(read * 100)] = max(3, int(math.floor((read - meta_share) * nb + 1e-9)))
    return out


def evaluate(paths, n_prefill, method_names):
    results = {}  # (dump, method, budget) -> list of recalls (one per query head and query)
    for path in paths:
        dump = np.load(path)
        keys, queries = dump["keys"], dump["queries"]
        n_layers, n_kv, s, d = keys.shape
        group = queries.shape[1] // n_kv
        query_sets = [(s - 1, queries)]
        if n_prefill and "prefill_queries" in dump:
            pq, pos = dump["prefill_queries"], dump["prefill_positions"]
            pick = np.linspace(0, len(pos) - 1, min(n_prefill, len(pos))).round().astype(int)
            query_sets += [(int(pos[i]), pq[:, :, i, :]) for i in pick]
        name = path.rsplit("/", 1)[-1].replace(".npz", "")
        for layer in range(n_layers):
            for g in range(n_kv):
                meta = HeadMeta(keys[layer, g])
                for position, qs_all in query_sets:
                    n = position + 1
                    nb = -(-n // BLOCK)
                    qs = qs_all[layer, g * group:(g + 1) * group].astype(np.float64)   # (3, D)
                    k = keys[layer, g, :n].astype(np.float64)
                    logits = qs @ k.T * INV_SQRT_D                                      # (3, n)
                    p = np.exp(logits - logits.max(1, keepdims=True))
                    p /= p.sum(1, keepdims=True)
                    mass = np.add.reduceat(p, np.arange(0, n, BLOCK), axis=1)          # (3, nb)
                    kind = "decode" if position == s - 1 else "prefill"
                    if kind == "decode":  # quantised outward boxes must still bound the block max logit
                        truth = exact_max(qs, meta)[:, :nb - 1]
                        for key in meta.qbox:
                            bound = qbox_shrunk(*key, 1.0)(qs, meta)[:, :nb - 1]
                            assert (bound >= truth - 1e-9).all(), ("bound violated", key)
                    for mname in method_names:
                        spec = METHODS[mname]
                        fn = spec["score"]
                        if isinstance(fn, str):
                            scores = None
                        elif spec["calibrate"] is not None:
                            forced_tokens = np.r_[0:BLOCK, (nb - 2) * BLOCK:n]
                            fl = logits[:, forced_tokens]
                            flse = fl.max(1) + np.log(np.exp(fl - fl.max(1, keepdims=True)).sum(1))
                            scores = calibrated_shares(fn(qs, meta)[:, :nb], flse, spec["calibrate"])
                        else:
                            scores = spec["combine"](fn(qs, meta)[:, :nb])
                        for bname, keep in budgets(nb, spec["meta"]).items():
                            keep = min(keep, nb)
                            if fn == "oracle":
                                kept = select(mass.sum(0), nb, keep)
                            elif fn == "window":
                                kept = np.array(sorted({0} | set(range(nb - (keep - 1), nb))))
                            elif fn == "forced":
                                kept = np.array([0, nb - 2, nb - 1])
                            else:
                                kept = select(scores, nb, keep, spec["window"])
                            recall = mass[:, kept].sum(1)
                            results.setdefault((name, kind, mname, bname), []).extend(recall.tolist())
        print("done", path, file=sys.stderr)
    return results


def table(results, dumps, kind, method_names, budget_names):
    head = "| score | " + " | ".join("%s %s" % (d.replace("smollm2-", ""), b) for b in budget_names for d in dumps) + " |"
    lines = [head, "|" + "---|" * (1 + len(budget_names) * len(dumps))]
    for m in method_names:
        cells = []
        for b in budget_names:
            for d in dumps:
                r = results.get((d, kind, m, b))
                if r is None:
                    cells.append("-")
                else:
                    r = np.array(r)
                    cells.append("%.3f (%.2f)" % (r.mean(), np.percentile(r, 5)))
        lines.append("| %s | %s |" % (m, " | ".join(cells)))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dumps", nargs="+")
    parser.add_argument("--prefill-queries", type=int, default=16,
                        help="prefill query positions per dump used as extra samples (0 = decode query only)")
    parser.add_argument("--methods", default="", help="semicolon-separated subset of method names")
    args = parser.parse_args()
    names = [m for m in METHODS if not args.methods or m in args.methods.split(";")]
    results = evaluate(args.dumps, args.prefill_queries, names)
    dumps = [p.rsplit("/", 1)[-1].replace(".npz", "") for p in args.dumps]
    for kind in ("decode", "prefill"):
        print("\n### %s queries: equal block budget, mean recall (p5)\n" % kind)
        print(table(results, dumps, kind, names, ["blocks@80%", "blocks@90%"]))
        print("\n### %s queries: equal bytes read, mean recall (p5)\n" % kind)
        print(table(results, dumps, kind, names, ["bytes@10%", "bytes@20%", "bytes@25%", "bytes@30%"]))


if __name__ == "__main__":
    main()
