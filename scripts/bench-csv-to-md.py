"""Prints the markdown tables of docs/benchmarks.md from `aether bench --export-csv` files.

Usage: python3 scripts/bench-csv-to-md.py FILE.csv [LEVEL ...]   (LEVEL: target sparsities to include, default all)
       python3 scripts/bench-csv-to-md.py --summary FILE.csv       (one line per level: the summary tables)
       python3 scripts/bench-csv-to-md.py --headline FILE.csv ...  (default vs shrunk-box vs quest vs oracle, per file and level)
"""
import csv
import sys


def f(value, fmt):
    return fmt.format(float(value)) if value not in ("", None) else "-"


def summary(path):
    """Per level: the primary row, the previous default (shrunk-box), the best other AETHER row, the baselines."""
    rows = list(csv.DictReader(open(path)))
    levels = sorted({r["target_sparsity"] for r in rows}, key=float)
    primary_name = rows[0]["method"]
    print("| target sparsity | %s (AETHER default) | shrunk-box (previous default) | best other AETHER score | quest | oracle "
          "| sink+window | random | at equal bytes: default / shrunk-box / quest / sink+window | default cos | measured (IQR) vs theo. "
          "| radar share |" % primary_name)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for level in levels:
        at = {r["method"]: r for r in rows if r["target_sparsity"] == level}
        p, shrunk = at[primary_name], at["shrunk-box"]
        others = [r for r in at.values() if r["kind"] == "AETHER" and r["method"] not in (primary_name, "shrunk-box")]
        best = max(others, key=lambda r: float(r["mass_recall_mean"]))
        mr = lambda r: "{:.3f} ({:.2f})".format(float(r["mass_recall_mean"]), float(r["mass_recall_p5"]))
        eq = " / ".join("{:.3f}".format(float(at[m]["equal_bytes_mass_recall"])) for m in (primary_name, "shrunk-box", "quest", "sink+window"))
        dense, p25, p75 = float(p["dense_ms"]), float(p["sparse_ms_p25"]), float(p["sparse_ms_p75"])
        measured = "{:.2f}x ({:.2f}-{:.2f}) vs {:.2f}x".format(float(p["measured_speedup"]), dense / p75, dense / p25,
                                                             float(p["theoretical_speedup"]))
        print("| {:.1f} | {} | {} | {} {} | {} | {} | {} | {} | {} | {:.4f} | {} | {:.1f}% |".format(
            float(level), mr(p), mr(shrunk), best["method"], mr(best), mr(at["quest"]), mr(at["oracle"]), mr(at["sink+window"]),
            mr(at["random"]), eq, float(p["cosine_mean"]), measured, 100 * float(p["radar_share"])))


def headline(paths):
    """Mass recall at equal bytes read and at equal blocks: the default against the previous default, Quest and the oracle."""
    print("| cache | target sparsity | bytes read (default) | equal bytes: default / shrunk-box / quest / oracle "
          "| equal blocks: default / shrunk-box / quest / oracle |")
    print("|---|---|---|---|---|")
    for path in paths:
        rows = list(csv.DictReader(open(path)))
        name = path.rsplit("/", 1)[-1].replace(".csv", "")
        primary = rows[0]["method"]
        for level in sorted({r["target_sparsity"] for r in rows}, key=float):
            at = {r["method"]: r for r in rows if r["target_sparsity"] == level}
            methods = (primary, "shrunk-box", "quest", "oracle")
            eq = " / ".join("{:.3f}".format(float(at[m]["equal_bytes_mass_recall"])) for m in methods)
            same = " / ".join("{:.3f}".format(float(at[m]["mass_recall_mean"])) for m in methods)
            print("| {} | {:.1f} | {:.1f}% | {} | {} |".format(name, float(level), 100 * float(at[primary]["bytes_read_share"]), eq, same))


def main():
    if sys.argv[1] == "--headline":
        headline(sys.argv[2:])
        return
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
        return
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
