#!/usr/bin/env python3
"""Reference token ids for Aether's tokenizer tests, from independent implementations.

Usage (a venv with: tokenizers transformers gguf sentencepiece protobuf numpy; no torch):
    python scripts/oracle/tokenizer_fixtures.py ../shared src/test/resources/fixtures/tokenizer

For every tokenizer GGUF in ../shared (7 vocab-only files and the two models) it writes
<file stem>.json: the hard input set below, each encoded without BOS/EOS, with and without
special-token parsing, plus two inputs with BOS/EOS as the file's flags ask. It also writes
chat_templates.json (transformers' apply_chat_template on the SmolLM2 and phi-3 templates, and the
reference ids of the result with special tokens parsed) and pretokenizers.json: the word splits of every pre-tokenizer family on the same inputs, and the ids
the GPT-2 vocabulary gives under the families that have no vocabulary file here.

How each reference is made, and why:
* SentencePiece (`llama` model: llama-spm, phi-3, stories260K): the `sentencepiece` library itself,
  on a ModelProto rebuilt from the GGUF (pieces, scores and types -- GGUF token types use
  sentencepiece's numbering --, BPE model, byte fallback, identity normalizer, dummy prefix,
  whitespace kept). Special tokens: the text is first cut at special-token texts (leftmost
  longest; user-defined tokens always, control/unknown ones only when parsing specials) and every
  text piece is encoded on its own, so each gets the dummy prefix. That is what llama.cpp does and
  what HF's Prepend("\u2581") normalizer does per split.
* Byte-level BPE (`gpt2` model): a `tokenizers` BPE model over the GGUF vocabulary and merges,
  with the pre-tokenizer of the family's own tokenizer.json (FAMILIES below), and the control and
  user-defined tokens added as special/plain added tokens (HF matches plain added tokens always,
  special ones unless told not to -- we build one tokenizer per mode).
* Cross-check: transformers' own GGUF tokenizer conversion (the code behind
  AutoTokenizer.from_pretrained(dir, gguf_file=...), called directly because transformers' GGUF
  reader imports torch) is run on every file and every plain input; where its ids differ from the reference the fixture lists
  the input under "transformers_differs" with its ids. Known causes: transformers builds
  StarCoder/Refact/SmolLM/Falcon/DeepSeek-Coder files with the plain GPT-2 split (no digit
  splitting: the families' tokenizer.json split digits), skips control tokens spelt outside the
  byte alphabet (DeepSeek's <｜begin▁of▁sentence｜>), and its Llama tokenizer's Metaspace adds no
  prefix to text that already starts with a space. We follow llama.cpp and the families'
  tokenizer.json there.
"""
import json
import os
import sys
import tempfile
import shutil

import gguf
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as sp_pb2
from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers

GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# Unicode's cased letters; six code points are escaped because NFC folds them (U+2126 Ohm to Omega, ...).
DEEPSEEK_LLM_LETTERS = ("\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+")
CJK_HANGUL = "[一-龥ࠀ-一가-퟿]+"


def split(regex):
    return pre_tokenizers.Split(Regex(regex), behavior="isolated")


def byte_level(use_regex):
    return pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=use_regex)


# The pre-tokenizers of each family's tokenizer.json, keyed by tokenizer.ggml.pre.
FAMILIES = {
    "gpt-2": lambda: byte_level(True),
    "starcoder": lambda: pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level(True)]),
    "refact": lambda: pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level(True)]),
    "smollm": lambda: pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), byte_level(True)]),
    "falcon": lambda: pre_tokenizers.Sequence([
        pre_tokenizers.Punctuation(behavior="contiguous"), byte_level(True),
        pre_tokenizers.Digits(individual_digits=False), split("[0-9][0-9][0-9]")]),
    "deepseek-coder": lambda: pre_tokenizers.Sequence([
        split("[\r\n]"), split("\\s?\\p{L}+"), split("\\s?\\p{P}+"), split(CJK_HANGUL),
        pre_tokenizers.Digits(individual_digits=True), byte_level(False)]),
    "deepseek-llm": lambda: pre_tokenizers.Sequence([
        split("[\r\n]"), split(DEEPSEEK_LLM_LETTERS), split("\\s?[!-/:-~！-／：-～‘-‟　-。]+"),
        split("\\s+$"), split(CJK_HANGUL), pre_tokenizers.Digits(individual_digits=False), byte_level(False)]),
    "llama-bpe": lambda: pre_tokenizers.Sequence([split(LLAMA3_SPLIT), byte_level(False)]),
    "qwen2": lambda: pre_tokenizers.Sequence([split(QWEN2_SPLIT), byte_level(False)]),
    # llama.cpp's own list for BPE files that say "default" (no tokenizer.json exists for it), on the text.
    "default": lambda: pre_tokenizers.Sequence([
        split("[\\p{P}\\$\\+<=>\\^~\\|]+"), split(GPT2_SPLIT), split("\\p{N}+"), split("[0-9][0-9][0-9]"),
        byte_level(False)]),
}
FILELESS_FAMILIES = ["llama-bpe", "qwen2", "deepseek-llm", "default"]

SHAKESPEARE = [
    "To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles",
    "All the world's a stage,\nAnd all the men and women merely players;\n"
    "They have their exits and their entrances,\nAnd one man in his time plays many parts.",
    "Shall I compare thee to a summer's day?\nThou art more lovely and more temperate:\n"
    "Rough winds do shake the darling buds of May,\nAnd summer's lease hath all too short a date;",
]

INPUTS = [
    "", " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n", "\r\n", "\n \n",
    "\t \n  \t", " \t\n\r\u000b\u000c",
    "a", "A", "Hello world", " Hello world", "Hello world ", "  Hello  world  ", "  leading and trailing  ",
    "hello\tworld\n", "Hello, World! How are you?", "a" + " " * 20 + "b", "   indented\n      more\n\n\ttab",
    "I'm sure it's what we've done, they're here, I'll go, he'd say, don't",
    "SHE'S DONE IT'LL WORK, WE'VE SEEN", "'s 've 're 'll 'd 'm 't", "'S 'VE 'Re?!", "x's y've",
    "Ünïcödé façade naïve — “quotes” … ©®™", "Καλημέρα κόσμε", "Привет, мир!", "مرحبا بالعالم",
    "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "你好，世界！這是中文。", "こんにちは世界、カタカナ",
    "안녕하세요 세계", "English 中文 日本語 한국어 mixed", "🦙 llamas 🚀🔥👍🏽", "👨‍👩‍👧‍👦 family 🏳️‍🌈",
    "e\u0301 a\u0300 n\u0303 Z\u0351\u0352\u0353a\u0328lgo", "A\u030a vs \u00c5", "ﬁ ﬂ Ⅻ ℌ ½ ²³",
    "1 12 123 1234 12345 1234567890", "3.14159 1,000,000 -42 +7 0x1F 1e-9", "٣٤٥ ١٢٣ ۴۵۶ ৩৪৫",
    "2024-05-17 12:34:56", "$100 + 5% = ^~|`<=> @#&*_\\", "...!!!???---___***",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n-1) + fib(n-2)\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; } // C\n\tprintf(\"%d\\n\", sum);",
    "<html><body class=\"x\">&nbsp;</body></html>", "https://example.com/path?q=1&r=2#frag",
    "\u00a0nbsp\u00a0 \u3000ideographic\u2003em\u200bzero\u2028sep\u0085nel",
    "\u0000\u0001\u007f control bytes", "<s> </s> <unk> <|endoftext|> <|im_start|>",
] + SHAKESPEARE

CHAT_INPUTS = [
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat's 2+2?<|im_end|>\n<|im_start|>assistant\n",
    "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi! [/INST] Hello</s>",
    "<|user|>\nHow are you?<|end|>\n<|assistant|>\nFine.<|end|>",
    "<|endoftext|>Hello<|endoftext|> world",
    "<｜begin▁of▁sentence｜>User: hi\n\nAssistant:<｜end▁of▁sentence｜>",
    ">>TITLE<<A title>>ABSTRACT<< text",
    "<fim_prefix>def f(<fim_suffix>):<fim_middle>",
]
BOS_INPUTS = ["Hello world", ""]


def read_vocab(path):
    reader = gguf.GGUFReader(path)

    def field(name):
        return reader.fields.get(name)

    def strings(name):
        f = field(name)
        return None if f is None else [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    def scalar(name):
        f = field(name)
        return None if f is None else f.contents()

    def numbers(name, cast):
        f = field(name)
        return None if f is None else [cast(f.parts[i][0]) for i in f.data]

    tokens = strings("tokenizer.ggml.tokens")
    model = scalar("tokenizer.ggml.model")
    vocab = {
        "path": path, "model": model, "pre": scalar("tokenizer.ggml.pre") or "default",
        "tokens": tokens, "merges": strings("tokenizer.ggml.merges"),
        "scores": numbers("tokenizer.ggml.scores", float), "types": numbers("tokenizer.ggml.token_type", int),
        "bos": scalar("tokenizer.ggml.bos_token_id"), "eos": scalar("tokenizer.ggml.eos_token_id"),
        "unk": scalar("tokenizer.ggml.unknown_token_id"),
        "add_space_prefix": scalar("tokenizer.ggml.add_space_prefix"),
    }
    if vocab["types"] is None:
        vocab["types"] = [1] * len(tokens)
    # llama.cpp's defaults when the flags are absent: SentencePiece adds BOS; BPE adds it only for Llama 3.
    add_bos = scalar("tokenizer.ggml.add_bos_token")
    add_eos = scalar("tokenizer.ggml.add_eos_token")
    vocab["add_bos"] = add_bos if add_bos is not None else (model == "llama" or vocab["pre"] in ("llama3", "llama-bpe", "llama-v3"))
    vocab["add_eos"] = bool(add_eos) if add_eos is not None else False
    if vocab["add_space_prefix"] is None:
        vocab["add_space_prefix"] = model == "llama"
    return vocab


def special_ids(vocab, parse_special):
    kinds = (3, 2, 4) if parse_special else (4,)
    return [i for i, t in enumerate(vocab["types"]) if t in kinds and vocab["tokens"][i]]


def cut_at_specials(text, vocab, parse_special):
    """[(text, None) | (None, id)] cut leftmost-longest at special-token texts."""
    ids = sorted(special_ids(vocab, parse_special), key=lambda i: -len(vocab["tokens"][i]))
    pieces, start, i = [], 0, 0
    while i < len(text):
        hit = next((t for t in ids if text.startswith(vocab["tokens"][t], i)), None)
        if hit is None:
            i += 1
            continue
        if i > start:
            pieces.append((text[start:i], None))
        pieces.append((None, hit))
        i += len(vocab["tokens"][hit])
        start = i
    if start < len(text):
        pieces.append((text[start:], None))
    return pieces


def sentencepiece_encoder(vocab):
    proto = sp_pb2.ModelProto()
    for index, (token, score, kind) in enumerate(zip(vocab["tokens"], vocab["scores"], vocab["types"])):
        if kind == 2 and index != vocab["unk"]:
            kind = 5  # sentencepiece allows one unknown piece; phi-3's [PADnnnnn] fillers are typed unknown
        piece = proto.pieces.add()
        piece.piece, piece.score, piece.type = token, score, kind if kind in (1, 2, 3, 4, 5, 6) else 1
    proto.trainer_spec.model_type = sp_pb2.TrainerSpec.BPE
    proto.trainer_spec.vocab_size = len(vocab["tokens"])
    proto.trainer_spec.byte_fallback = any(t == 6 for t in vocab["types"])
    proto.trainer_spec.unk_id = vocab["unk"] if vocab["unk"] is not None else 0
    proto.trainer_spec.bos_id = vocab["bos"] if vocab["bos"] is not None else -1
    proto.trainer_spec.eos_id = vocab["eos"] if vocab["eos"] is not None else -1
    proto.trainer_spec.pad_id = -1
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = bool(vocab["add_space_prefix"])
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    processor = spm.SentencePieceProcessor()
    processor.LoadFromSerializedProto(proto.SerializeToString())

    def encode(text, parse_special):
        ids = []
        for piece, token in cut_at_specials(text, vocab, parse_special):
            ids.extend([token] if token is not None else processor.encode(piece))
        return ids
    return encode


def bpe_encoder(vocab, family=None):
    family = family or vocab["pre"]
    ranks = {token: i for i, token in enumerate(vocab["tokens"])}
    merges = [tuple(m.split(" ", 1)) for m in vocab["merges"]]
    merges = [m for m in merges if m[0] in ranks and m[1] in ranks and m[0] + m[1] in ranks]

    def build(parse_special):
        tok = Tokenizer(models.BPE(vocab=ranks, merges=merges, ignore_merges=family == "llama-bpe"))
        tok.pre_tokenizer = FAMILIES[family]()
        added = [AddedToken(vocab["tokens"][i], special=vocab["types"][i] != 4, normalized=False)
                 for i in special_ids(vocab, parse_special)]
        tok.add_special_tokens([a for a in added if a.special])
        tok.add_tokens([a for a in added if not a.special])
        return tok
    plain, parsing = build(False), build(True)
    return lambda text, parse_special: (parsing if parse_special else plain).encode(text, add_special_tokens=False).ids


def transformers_backend(vocab):
    """transformers' GGUF tokenizer conversion (what AutoTokenizer.from_pretrained(dir, gguf_file=...)
    runs), fed the metadata read here: its own GGUF reader imports torch, which this venv lacks."""
    from transformers.integrations.gguf.gguf_tokenizer_mapping import convert_gguf_tokenizer
    reader = gguf.GGUFReader(vocab["path"])
    architecture = reader.fields["general.architecture"].contents()
    tokenizer_dict = {"tokenizer_type": vocab["model"], "pre_tokenizer_type": vocab["pre"], "tokens": vocab["tokens"],
                      "token_type": vocab["types"], "bos_token_id": vocab["bos"], "eos_token_id": vocab["eos"],
                      "unk_token_id": vocab["unk"], "add_prefix_space": vocab["add_space_prefix"]}
    if vocab["merges"] is not None:
        tokenizer_dict["merges"] = vocab["merges"]
    if vocab["scores"] is not None:
        tokenizer_dict["scores"] = vocab["scores"]
    backend, _ = convert_gguf_tokenizer(architecture, {k: v for k, v in tokenizer_dict.items() if v is not None})
    return backend


def transformers_encoder(vocab):
    backend = transformers_backend(vocab)
    return lambda text: backend.encode(text, add_special_tokens=False).ids


def fixture_for(path):
    vocab = read_vocab(path)
    encode = sentencepiece_encoder(vocab) if vocab["model"] == "llama" else bpe_encoder(vocab)
    reference = ("sentencepiece BPE on a ModelProto rebuilt from the GGUF" if vocab["model"] == "llama"
                 else "tokenizers BPE from the GGUF vocab/merges with the '%s' family pre-tokenizer" % vocab["pre"])
    cases = []
    for text in INPUTS:
        cases.append({"text": text, "add_special": False, "parse_special": False, "ids": encode(text, False)})
    for text in CHAT_INPUTS + ["<s> </s> <unk> <|endoftext|> <|im_start|>"]:
        cases.append({"text": text, "add_special": False, "parse_special": True, "ids": encode(text, True)})
    for text in CHAT_INPUTS:
        cases.append({"text": text, "add_special": False, "parse_special": False, "ids": encode(text, False)})
    for text in BOS_INPUTS:
        ids = ([vocab["bos"]] if vocab["add_bos"] else []) + encode(text, False) + ([vocab["eos"]] if vocab["add_eos"] else [])
        cases.append({"text": text, "add_special": True, "parse_special": False, "ids": ids})

    differs = []
    try:
        hf = transformers_encoder(vocab)
        for case in cases:
            if case["add_special"] or case["parse_special"]:
                continue
            got = hf(case["text"])
            if got != case["ids"]:
                differs.append({"text": case["text"], "ids": got})
        hf_note = "%d of %d plain inputs differ" % (len(differs), sum(1 for c in cases if not c["add_special"] and not c["parse_special"]))
    except Exception as e:  # an architecture transformers cannot load
        hf_note = "transformers could not load it: %s" % str(e).splitlines()[0][:200]
    return {
        "file": os.path.relpath(path, SHARED), "model": vocab["model"], "pre": vocab["pre"],
        "reference": reference, "transformers_gguf": hf_note, "transformers_differs": differs, "cases": cases,
    }


def pretokenizer_fixture(gpt2_vocab):
    families = {}
    for family, make in FAMILIES.items():
        pre = make()
        splits = []
        for text in INPUTS:
            words = [w for w, _ in pre.pre_tokenize_str(text)]
            splits.append(words)  # spelt in byte-level characters, as the BPE model sees them
        entry = {"splits": splits}
        if family in FILELESS_FAMILIES:
            encode = bpe_encoder(gpt2_vocab, family)
            entry["gpt2_vocab_ids"] = [encode(text, False) for text in INPUTS]
        families[family] = entry
    return {"inputs": INPUTS, "vocab_for_ids": "tokenizers/ggml-vocab-gpt-2.gguf", "families": families}


CONVERSATIONS = [
    [{"role": "user", "content": "Hi there!"}],
    [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3+3?\nThanks 🙂"}],
    [{"role": "user", "content": "  leading spaces and a trailing newline\n"}, {"role": "assistant", "content": "ok"}],
]


def chat_template_fixture(paths):
    """transformers' apply_chat_template on each file's tokenizer.chat_template, and the reference ids."""
    from transformers import PreTrainedTokenizerFast
    entries = []
    for path in paths:
        vocab = read_vocab(path)
        template = gguf.GGUFReader(path).fields["tokenizer.chat_template"].contents()
        backend = transformers_backend(vocab)
        hf = PreTrainedTokenizerFast(tokenizer_object=backend, chat_template=template,
                                     bos_token=vocab["tokens"][vocab["bos"]], eos_token=vocab["tokens"][vocab["eos"]])
        encode = sentencepiece_encoder(vocab) if vocab["model"] == "llama" else bpe_encoder(vocab)
        for messages in CONVERSATIONS:
            for add_generation_prompt in (False, True):
                text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)
                entries.append({"file": os.path.relpath(path, SHARED), "messages": messages,
                                "add_generation_prompt": add_generation_prompt, "text": text,
                                "ids": encode(text, True)})
    return {"renderer": "transformers PreTrainedTokenizerFast.apply_chat_template", "cases": entries}


if __name__ == "__main__":
    SHARED = os.path.abspath(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    files = sorted(os.path.join(SHARED, "tokenizers", f) for f in os.listdir(os.path.join(SHARED, "tokenizers")) if f.endswith(".gguf"))
    files += [os.path.join(SHARED, "models/stories260K/stories260K.gguf"),
              os.path.join(SHARED, "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")]
    for path in files:
        fixture = fixture_for(path)
        name = os.path.splitext(os.path.basename(path))[0] + ".json"
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        print(name, fixture["reference"], "|", fixture["transformers_gguf"])
    with open(os.path.join(out, "pretokenizers.json"), "w", encoding="utf-8") as f:
        json.dump(pretokenizer_fixture(read_vocab(os.path.join(SHARED, "tokenizers/ggml-vocab-gpt-2.gguf"))), f,
                  ensure_ascii=False, separators=(",", ":"))
    with open(os.path.join(out, "chat_templates.json"), "w", encoding="utf-8") as f:
        json.dump(chat_template_fixture([os.path.join(SHARED, "models/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"),
                                         os.path.join(SHARED, "tokenizers/ggml-vocab-phi-3.gguf")]), f,
                  ensure_ascii=False, separators=(",", ":"), indent=None)
