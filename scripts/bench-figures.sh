#!/usr/bin/env bash
# Reproduces the attention benchmark figures of docs/benchmarks.md (about 10 minutes on 2 cores).
# Usage: scripts/bench-figures.sh [OUT_DIR]   (the SmolLM2 runs need the dumps under $KVDUMPS, default /work/kvdumps)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/target/bench-figures}
dumps=${KVDUMPS:-/work/kvdumps}
mkdir -p "$out"
sweep=(--sparsity-sweep 0.5 0.6 0.7 0.8 0.9 --all-variants --reps 25 --warmup 5 --no-progress)
run() {  # name, args...
  local name=$1; shift
  echo "== $name: aether bench $*" | tee "$out/$name.txt"
  "$root/aether" bench "$@" --export-csv "$out/$name.csv" --charts "$out/img-$name" 2>&1 | grep -v 'incubator' | tee -a "$out/$name.txt"
}
run llama7b-16k --shape llama7b --seq-len 16384 "${sweep[@]}"
run llama7b-32k --shape llama7b --seq-len 32768 "${sweep[@]}"
run llama3-8b-16k --shape llama3-8b --seq-len 16384 "${sweep[@]}"
for f in smollm2-shakespeare-8k smollm2-passkey-8k smollm2-shakespeare-mid-8k; do
  if [ -f "$dumps/$f.npz" ]; then run "$f" --kv-file "$dumps/$f.npz" --batch-size 30 "${sweep[@]}"; fi
done
