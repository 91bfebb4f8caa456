"""Prints the markdown tables of docs/benchmarks.md from `aether bench --export-csv` files.

Usage: python3 scripts/bench-csv-to-md.py FILE.csv [LEVEL ...]   (LEVEL: target sparsities to include, default all)
"""
import csv
import sys


def f(value, fmt):
    return fmt.format(float(value)) if value not in ("", None) else "-"


def main():
    rows = list(csv.DictReader(open(sys.argv[1])))
    levels = [float(x) for x in sys.argv[2:]]
    print("| S | sparsity | method | cos | L2 | KL | mass recall (p5) | P | R | bytes read | mass recall at equal bytes | theo. | measured (IQR) | radar share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if levels and (r["target_sparsity"] == "" or float(r["target_sparsity"]) not in levels):
            continue
        measured = "-"
        if r["measured_speedup"]:
            dense, p25, p75 = float(r["dense_ms"]), float(r["sparse_ms_p25"]), float(r["sparse_ms_p75"])
            measured = "{:.2f}x ({:.2f}-{:.2f})".format(float(r["measured_speedup"]), dense / p75, dense / p25)
        method = "**" + r["method"] + "**" if r["kind"] == "AETHER" else r["method"]
        print("| {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} | {} | {} | {} | {} | {} |".format(
            r["seq_len"], f(r["achieved_sparsity"], "{:.3f}"), method, f(r["cosine_mean"], "{:.4f}"),
            f(r["normalized_l2_mean"], "{:.3f}"), f(r["kl_mean"], "{:.3f}"), f(r["mass_recall_mean"], "{:.3f}"),
            f(r["mass_recall_p5"], "{:.2f}"), f(r["block_precision"], "{:.3f}"), f(r["block_recall"], "{:.3f}"),
            f(float(r["bytes_read_share"]) * 100, "{:.1f}%"), f(r["equal_bytes_mass_recall"], "{:.3f}"),
            f(r["theoretical_speedup"], "{:.2f}x"), measured,
            f(float(r["radar_share"]) * 100, "{:.1f}%") if r["radar_share"] else "-"))


if __name__ == "__main__":
    main()
