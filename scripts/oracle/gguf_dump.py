#!/usr/bin/env python3
"""Reference dump of every shipped GGUF file, made with the `gguf` package (llama.cpp's gguf-py).

Writes src/test/resources/fixtures/gguf/<file>.json (header, every metadata key with its type
and value - arrays as length, first 8 items and a SHA-256 of all items - and the tensor table)
and ggml_types.json (gguf-py's id, block size and bytes per block of every ggml type).
GgufOracleTest checks `aether inspect --json` against these files.

items_sha256 encodes each item in turn: integers as 8-byte little-endian int64, floats as
8-byte little-endian binary64, bools as one byte, strings as an 8-byte little-endian UTF-8
length then the bytes.

Usage (from the repository root, with ../shared beside it):
    python3 -m venv /tmp/ref-gguf && /tmp/ref-gguf/bin/pip install gguf numpy
    /tmp/ref-gguf/bin/python scripts/oracle/gguf_dump.py
"""
import hashlib
import importlib.metadata
import json
import struct
import sys
from pathlib import Path

from gguf import GGUFReader, GGUFValueType
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "src" / "test" / "resources" / "fixtures" / "gguf"
SHOWN_ITEMS = 8
INTEGER_TYPES = {GGUFValueType.UINT8, GGUFValueType.INT8, GGUFValueType.UINT16, GGUFValueType.INT16,
                 GGUFValueType.UINT32, GGUFValueType.INT32, GGUFValueType.UINT64, GGUFValueType.INT64}
FLOAT_TYPES = {GGUFValueType.FLOAT32, GGUFValueType.FLOAT64}


def scalar(value_type, part):
    """One value from the reader's raw numpy part, as a plain Python value."""
    if value_type == GGUFValueType.STRING:
        return bytes(part).decode("utf-8")
    item = part[0]
    if value_type in INTEGER_TYPES:
        return int(item)
    if value_type in FLOAT_TYPES:
        return float(item)
    if value_type == GGUFValueType.BOOL:
        return bool(item)
    raise ValueError(f"unexpected scalar type {value_type}")


def encode(value_type, value):
    if value_type in INTEGER_TYPES:
        return struct.pack("<q", value)
    if value_type in FLOAT_TYPES:
        return struct.pack("<d", value)
    if value_type == GGUFValueType.BOOL:
        return b"\x01" if value else b"\x00"
    if value_type == GGUFValueType.STRING:
        utf8 = value.encode("utf-8")
        return struct.pack("<Q", len(utf8)) + utf8
    raise ValueError(f"cannot hash {value_type}")


def metadata_entry(key, field):
    entry = {"key": key, "type": field.types[0].name}
    if field.types[0] != GGUFValueType.ARRAY:
        entry["value"] = scalar(field.types[0], field.parts[field.data[0]])
        return entry
    if len(field.types) > 2 and field.types[1] == GGUFValueType.ARRAY:
        raise ValueError(f"{key}: nested arrays are not in any shipped file; extend this script first")
    element_type = field.types[1] if len(field.types) > 1 else GGUFValueType.UINT8
    items = [scalar(element_type, field.parts[index]) for index in field.data]
    digest = hashlib.sha256()
    for item in items:
        digest.update(encode(element_type, item))
    entry.update(element_type=element_type.name, length=len(items), items=items[:SHOWN_ITEMS],
                 items_sha256=digest.hexdigest())
    return entry


def dump(path):
    reader = GGUFReader(path)
    header = {k: int(reader.fields[k].parts[reader.fields[k].data[0]][0])
              for k in ("GGUF.version", "GGUF.tensor_count", "GGUF.kv_count")}
    metadata = [metadata_entry(key, field) for key, field in reader.fields.items() if not key.startswith("GGUF.")]
    tensors = [{
        "name": tensor.name,
        "type": tensor.tensor_type.name,
        "shape": [int(d) for d in tensor.shape],
        "elements": int(tensor.n_elements),
        "bytes": int(tensor.n_bytes),
        "offset": int(tensor.data_offset) - int(reader.data_offset),
    } for tensor in reader.tensors]
    assert len(metadata) == header["GGUF.kv_count"] and len(tensors) == header["GGUF.tensor_count"]
    return {
        "made_by": f"scripts/oracle/gguf_dump.py with gguf {importlib.metadata.version('gguf')}",
        "file": str(path.relative_to(SHARED)),
        "file_size": path.stat().st_size,
        "version": header["GGUF.version"],
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": metadata,
        "tensors": tensors,
    }


def main():
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the shipped GGUF files live there")
    OUT.mkdir(parents=True, exist_ok=True)
    files = sorted(SHARED.glob("models/*/*.gguf")) + sorted(SHARED.glob("tokenizers/*.gguf"))
    for path in files:
        target = OUT / (path.name + ".json")
        target.write_text(json.dumps(dump(path), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes")
    types = {t.name: {"id": t.value, "block_size": GGML_QUANT_SIZES[t][0], "bytes_per_block": GGML_QUANT_SIZES[t][1]}
             for t in GGMLQuantizationType}
    (OUT / "ggml_types.json").write_text(json.dumps(types, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
