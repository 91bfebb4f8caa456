#!/usr/bin/env python3
"""Reference fixtures for the model runtime (GGUF reader, tokenizers, forward pass, greedy decode).

For each shipped GGUF model this writes src/test/resources/fixtures/model/<model>.json with
  - token ids for a set of prompts, from an independent reference tokenizer built from the
    GGUF's own vocabulary (see tokenizer_reference in the JSON), cross-checked with transformers'
    GGUF tokenizer conversion where that one loads;
  - last-position logits for several prompts (top 50 + summary statistics; all values for
    the 512-token stories260K vocabulary);
  - 32 greedy tokens for two prompts, with the top-1/top-2 logit gap at every step.
Logits come from transformers' Llama implementation in fp32 with the GGUF weights
dequantised to fp32 by gguf-py (transformers' GGUF loader), so for quantised files they are the
exact dequantised weights but fp32 activations (no Q8 activation quantisation as llama.cpp does).

Run: /tmp/ref/bin/python scripts/oracle/model_fixtures.py   (venv: torch transformers gguf
numpy sentencepiece protobuf tokenizers)
"""
import hashlib
import json
import math
import os
import sys

import gguf
import numpy as np
import sentencepiece as spm
import tokenizers
import torch
import transformers
from sentencepiece import sentencepiece_model_pb2 as sp_pb2
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(REPO), "shared")
if not os.path.isdir(os.path.join(SHARED, "models")):
    SHARED = "/work/shared"
OUT_DIR = os.path.join(REPO, "src", "test", "resources", "fixtures", "model")

MODELS = [
    ("stories260K", "stories260K.gguf"),
    ("stories260K", "stories260K-Q8_0.gguf"),
    ("stories260K", "stories260K-Q4_0.gguf"),
    ("smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
]

TOKENIZE_PROMPTS = [
    ("empty", ""),
    ("ascii", "Hello world"),
    ("story", "Once upon a time, there was a little girl named Lily. She loved to play outside."),
    ("unicode", "Héllo wörld – naïve café, 日本語のテキスト, Ελληνικά, emoji 🙂🚀 and ß→ẞ"),
    ("whitespace_runs", "a  b   c\t\td\n\n\ne    \n  f"),
    ("leading_trailing_spaces", "   leading and trailing   "),
    ("newlines_only", "\n\n"),
    ("digits", "12345 6789012 3.14159 1,000,000 2026-11-24 x86_64 abc123def"),
    ("code", "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint([fib(i) for i in range(10)])  # {'a': 1}\n"),
    ("punctuation_contractions", "I'm sure it's fine, isn't it? They've said: \"we'll see\" -- (maybe)!!! ..."),
    ("special_token_text", "<|im_start|>user\nhi<|im_end|>\n<s> </s>"),
]

# Fixed probe ids whose logits are stored for every logits prompt (all below 512).
PROBE_IDS = [0, 1, 2, 3, 10, 13, 100, 255, 256, 300, 400, 511]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def gguf_fields(path):
    reader = gguf.GGUFReader(path)
    fields = {}
    for key, field in reader.fields.items():
        try:
            fields[key] = field.contents()
        except Exception:  # noqa: BLE001 - a field gguf-py cannot decode is not needed here
            pass
    types = {}
    for t in reader.tensors:
        types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
    tensor_types = {t.name: t.tensor_type.name for t in reader.tensors}
    return fields, types, tensor_types


class SentencePieceReference:
    """The GGUF `llama` vocabulary rebuilt as a SentencePiece BPE model (as llama's tokenizer.model)."""

    def __init__(self, fields):
        proto = sp_pb2.ModelProto()
        tokens, scores, types = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.scores"], fields["tokenizer.ggml.token_type"]
        for tok, score, ttype in zip(tokens, scores, types):
            piece = proto.pieces.add()
            piece.piece, piece.score, piece.type = tok, float(score), int(ttype)
        proto.trainer_spec.model_type = sp_pb2.TrainerSpec.BPE
        proto.trainer_spec.vocab_size = len(tokens)
        proto.trainer_spec.byte_fallback = True
        proto.trainer_spec.unk_id = int(fields.get("tokenizer.ggml.unknown_token_id", 0))
        proto.trainer_spec.bos_id = int(fields["tokenizer.ggml.bos_token_id"])
        proto.trainer_spec.eos_id = int(fields["tokenizer.ggml.eos_token_id"])
        proto.trainer_spec.pad_id = -1
        proto.normalizer_spec.name = "identity"
        proto.normalizer_spec.add_dummy_prefix = bool(fields.get("tokenizer.ggml.add_space_prefix", True))
        proto.normalizer_spec.remove_extra_whitespaces = False
        proto.normalizer_spec.escape_whitespaces = True
        self.sp = spm.SentencePieceProcessor(model_proto=proto.SerializeToString())
        # llama.cpp's special-token partition matches control, user-defined and unknown tokens.
        self.specials = {tok: i for i, (tok, t) in enumerate(zip(tokens, types)) if int(t) in (2, 3, 4)}
        self.description = ("sentencepiece %s BPE model rebuilt from the GGUF tokens/scores/token_type "
                            "(byte_fallback, add_dummy_prefix=%s, identity normaliser, no extra-whitespace removal); "
                            "special-token text in prompts is NOT parsed as control tokens" %
                            (spm.__version__, proto.normalizer_spec.add_dummy_prefix))

    def encode(self, text):
        return self.sp.encode(text)

    def encode_parse_special(self, text):
        """As llama.cpp with parse_special=true: special-token text becomes the token; every raw
        fragment gets the space prefix (llama.cpp prefixes a fragment that follows a special token)."""
        ids = []
        for kind, fragment in split_specials(text, self.specials):
            ids.extend([fragment] if kind == "special" else self.sp.encode(fragment))
        return ids

    def encode_plain(self, text):
        return self.encode(text)

    def pieces(self, ids):
        return [self.sp.id_to_piece(i) for i in ids]

    def decode(self, ids):
        return self.sp.decode(ids)


class ByteLevelReference:
    """The GGUF `gpt2` vocabulary with the SmolLM pre-tokeniser, in HF `tokenizers`.

    llama.cpp's `smollm` pre-tokeniser = individual digits, then the GPT-2 regex; this is also
    what SmolLM2's original tokenizer.json declares (Digits(individual_digits) + ByteLevel).
    Control tokens (token_type 3) are matched in the text as specials, as llama.cpp does with
    parse_special=true.
    """

    def __init__(self, fields):
        assert fields["tokenizer.ggml.pre"] == "smollm", fields["tokenizer.ggml.pre"]
        tokens = fields["tokenizer.ggml.tokens"]
        vocab = {t: i for i, t in enumerate(tokens)}
        merges = [tuple(m.split(" ", 1)) for m in fields["tokenizer.ggml.merges"]]
        tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab=vocab, merges=merges, fuse_unk=False))
        tok.pre_tokenizer = tokenizers.pre_tokenizers.Sequence([
            tokenizers.pre_tokenizers.Digits(individual_digits=True),
            tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ])
        tok.decoder = tokenizers.decoders.ByteLevel()
        specials = [tokens[i] for i, t in enumerate(fields["tokenizer.ggml.token_type"]) if int(t) == 3]
        self.plain = tokenizers.Tokenizer.from_str(tok.to_str())  # same, without special-token matching
        tok.add_special_tokens([tokenizers.AddedToken(s, special=True, normalized=False) for s in specials])
        self.tok = tok
        self.specials = specials
        self.description = ("HF tokenizers %s: BPE from the GGUF tokens+merges, pre-tokeniser "
                            "Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)] "
                            "(= llama.cpp 'smollm'), ByteLevel decoder; the %d control tokens are matched as specials "
                            "(llama.cpp parse_special=true)" % (tokenizers.__version__, len(specials)))

    def encode(self, text):
        return self.tok.encode(text, add_special_tokens=False).ids

    def encode_parse_special(self, text):
        return self.encode(text)

    def encode_plain(self, text):
        return self.plain.encode(text, add_special_tokens=False).ids

    def pieces(self, ids):
        return [self.tok.id_to_token(i) for i in ids]

    def decode(self, ids):
        return self.tok.decode(ids, skip_special_tokens=False)


def split_specials(text, specials):
    """[("special", id) | ("text", str)], longest special string first at each position."""
    out, start, i = [], 0, 0
    names = sorted(specials, key=len, reverse=True)
    while i < len(text):
        hit = next((n for n in names if text.startswith(n, i)), None)
        if hit is None:
            i += 1
            continue
        if i > start:
            out.append(("text", text[start:i]))
        out.append(("special", specials[hit]))
        i = start = i + len(hit)
    if start < len(text):
        out.append(("text", text[start:]))
    return out


def load_model(model_dir, file_name):
    config = AutoConfig.from_pretrained(model_dir, gguf_file=file_name)
    if config.pad_token_id is not None and not 0 <= config.pad_token_id < config.vocab_size:
        config.pad_token_id = None  # stories260K stores 0xFFFFFFFF ("none"); torch rejects it
    model = AutoModelForCausalLM.from_pretrained(model_dir, gguf_file=file_name, config=config,
                                                 dtype=torch.float32, attn_implementation="eager")
    model.eval()
    return model


def logits_summary(logits, full):
    values = logits.double().numpy()
    order = np.argsort(-values, kind="stable")[:50]
    entry = {
        "top50": [[int(i), float(np.float32(values[i]))] for i in order],
        "argmax": int(order[0]),
        "max": float(values.max()),
        "logsumexp": float(np.log(np.exp(values - values.max()).sum()) + values.max()),
        "mean": float(values.mean()),
        "std": float(values.std()),
        "probe_ids": PROBE_IDS,
        "probe_values": [float(np.float32(values[i])) for i in PROBE_IDS],
    }
    if full:
        entry["all"] = [float(np.float32(v)) for v in values]
    return entry


@torch.no_grad()
def last_logits(model, ids):
    return model(torch.tensor([ids])).logits[0, -1].float()


@torch.no_grad()
def greedy(model, ids, steps):
    out = model(torch.tensor([ids]), use_cache=True)
    past, logits = out.past_key_values, out.logits[0, -1]
    tokens, gaps, top2 = [], [], []
    for _ in range(steps):
        top = torch.topk(logits.double(), 2)
        nxt = int(top.indices[0])
        tokens.append(nxt)
        gaps.append(float(top.values[0] - top.values[1]))
        top2.append(int(top.indices[1]))
        out = model(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1]
    return tokens, gaps, top2


def long_text(tok_encode, min_tokens):
    lines = open(os.path.join(SHARED, "data", "tinyshakespeare.txt"), encoding="utf-8").read().split("\n")
    for n in range(10, len(lines)):
        text = "\n".join(lines[:n])
        if len(tok_encode(text)) >= min_tokens:
            return text
    raise RuntimeError("tinyshakespeare too short")


def build(model_dir_name, file_name):
    model_dir = os.path.join(SHARED, "models", model_dir_name)
    path = os.path.join(model_dir, file_name)
    fields, type_counts, tensor_types = gguf_fields(path)
    tokenizer_model = fields["tokenizer.ggml.model"]
    ref = SentencePieceReference(fields) if tokenizer_model == "llama" else ByteLevelReference(fields)
    # llama.cpp defaults: SPM adds BOS unless the file says otherwise; BPE follows the flag (false here).
    add_bos = bool(fields.get("tokenizer.ggml.add_bos_token", tokenizer_model == "llama"))
    bos_id, eos_id = int(fields["tokenizer.ggml.bos_token_id"]), int(fields["tokenizer.ggml.eos_token_id"])

    def model_input(text):
        ids = ref.encode(text)
        return ([bos_id] if add_bos else []) + ids

    try:
        hf_tok = AutoTokenizer.from_pretrained(model_dir, gguf_file=file_name)
        hf_note = "transformers GGUF tokenizer conversion (%s)" % type(hf_tok).__name__
    except Exception as exc:  # noqa: BLE001 - recorded in the fixture
        hf_tok, hf_note = None, "transformers GGUF tokenizer failed to load: %s" % str(exc).splitlines()[0][:200]

    chat_template = fields.get("tokenizer.chat_template")
    prompts = list(TOKENIZE_PROMPTS)
    chat_text = None
    if chat_template:
        import jinja2
        env = jinja2.Environment(trim_blocks=False, lstrip_blocks=False)
        messages = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
        chat_text = env.from_string(chat_template).render(messages=messages, add_generation_prompt=True,
                                                          bos_token=fields["tokenizer.ggml.tokens"][bos_id],
                                                          eos_token=fields["tokenizer.ggml.tokens"][eos_id])
        if hf_tok is not None:
            hf_chat = hf_tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            assert hf_chat == chat_text, (hf_chat, chat_text)
        prompts.append(("chat_chatml", chat_text))
        prompts.append(("chat_two_turns", env.from_string(chat_template).render(
            messages=[{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Hi!"},
                      {"role": "assistant", "content": "Hello! How can I help?"},
                      {"role": "user", "content": "Count to 3."}], add_generation_prompt=True)))

    tokenize = []
    for name, text in prompts:
        ids = ref.encode(text)
        entry = {"name": name, "text": text, "ids": ids, "ids_with_bos_flag": model_input(text),
                 "pieces": ref.pieces(ids), "decoded": ref.decode(ids)}
        parsed, plain = ref.encode_parse_special(text), ref.encode_plain(text)
        if parsed != ids or plain != ids:
            entry["ids_parse_special"], entry["ids_plain"] = parsed, plain
        if hf_tok is not None:
            hf_ids = hf_tok.encode(text, add_special_tokens=False)
            entry["transformers_ids_agree"] = hf_ids == ids
            if hf_ids != ids:
                entry["transformers_ids"] = hf_ids
        tokenize.append(entry)

    model = load_model(model_dir, file_name)
    full = model.config.vocab_size <= 1024
    story = "Once upon a time"
    logits_prompts = [("short_story", story), ("sentence", "The quick brown fox jumps over the lazy dog."),
                      ("digits_code", "x = 12345\nprint(x * 2)\n"),
                      ("long_shakespeare", long_text(ref.encode, 320))]
    if chat_text:
        logits_prompts.append(("chat_chatml", chat_text))
    logits = []
    for name, text in logits_prompts:
        ids = model_input(text)
        entry = {"name": name, "prompt": text, "input_ids": ids, "n_tokens": len(ids)}
        entry.update(logits_summary(last_logits(model, ids), full))
        logits.append(entry)

    greedy_prompts = [("once_upon_a_time", story)]
    greedy_prompts.append(("chat_chatml", chat_text) if chat_text else ("lily_park", "Lily and Tom went to the park."))
    greedy_runs = []
    for name, text in greedy_prompts:
        ids = model_input(text)
        tokens, gaps, second = greedy(model, ids, 32)
        greedy_runs.append({
            "name": name, "prompt": text, "input_ids": ids, "steps": 32,
            "tokens": tokens, "pieces": ref.pieces(tokens), "text": ref.decode(tokens),
            "top2_gap": gaps, "second_best": second, "min_gap": min(gaps), "min_gap_step": int(np.argmin(gaps)),
            "eos_positions": [i for i, t in enumerate(tokens) if t == eos_id],
        })

    quantised = sorted(k for k in type_counts if k not in ("F32", "F16", "BF16"))
    return {
        "model_file": "%s/%s" % (model_dir_name, file_name),
        "sha256": sha256(path),
        "generator": "scripts/oracle/model_fixtures.py",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "gguf": gguf.__version__ if hasattr(gguf, "__version__") else "0.19.0",
                     "tokenizers": tokenizers.__version__, "sentencepiece": spm.__version__},
        "tensor_type_counts": type_counts,
        "output_tensor_type": tensor_types.get("output.weight", "tied to token_embd (%s)" % tensor_types["token_embd.weight"]),
        "weights": ("GGUF tensors dequantised to fp32 by gguf-py (transformers GGUF loader)%s; forward pass in fp32 "
                    "(torch eager attention, transformers LlamaForCausalLM). Activations are NOT quantised, unlike "
                    "llama.cpp's Q8 activation path for %s dot products." %
                    (" - quantised types " + ", ".join(quantised) if quantised else " (file is float already)",
                     ", ".join(quantised) if quantised else "quantised")),
        "tokenizer_model": tokenizer_model,
        "tokenizer_pre": fields.get("tokenizer.ggml.pre"),
        "tokenizer_reference": ref.description,
        "transformers_tokenizer": hf_note,
        "add_bos": add_bos, "bos_id": bos_id, "eos_id": eos_id,
        "notes": ["'ids' = text encoded without BOS, control-token text parsed as specials for gpt2 (as "
                  "llama.cpp parse_special=true) and NOT for llama/SPM (as sentencepiece). Where the two readings "
                  "differ, 'ids_parse_special' (llama.cpp parse_special=true) and 'ids_plain' (=false) are both given.",
                  "'ids' = text encoded without BOS; 'ids_with_bos_flag' = what the model is fed (BOS prepended iff add_bos). "
                  "Logits and greedy runs use the ids_with_bos_flag form of their prompt (listed as input_ids).",
                  "Greedy decoding runs exactly 32 argmax steps and does not stop at EOS (eos_positions lists where EOS came).",
                  "top2_gap[i] = logit(top1) - logit(top2) at step i in this fp32 reference; a Java mismatch at a step "
                  "with a gap below the logit tolerance is a tie, not an error.",
                  "Logit values are float32; max/logsumexp/mean/std are computed in float64 from them."],
        "tokenize": tokenize,
        "logits": logits,
        "greedy": greedy_runs,
    }


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = sys.argv[1:]
    for model_dir_name, file_name in MODELS:
        if only and file_name not in only:
            continue
        fixture = build(model_dir_name, file_name)
        out = os.path.join(OUT_DIR, file_name.replace(".gguf", ".json"))
        with open(out, "w", encoding="utf-8") as f:
            json.dump(fixture, f, ensure_ascii=False, indent=1)
            f.write("\n")
        g = fixture["greedy"][0]
        print("%s: %d bytes, greedy %r (min gap %.4f)" % (out, os.path.getsize(out), g["text"], g["min_gap"]))
        for e in fixture["tokenize"]:
            if not e.get("transformers_ids_agree", True):
                print("  transformers tokenizer differs on", e["name"])


if __name__ == "__main__":
    main()
