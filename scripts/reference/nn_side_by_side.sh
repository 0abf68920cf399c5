#!/usr/bin/env bash
# Runs `./rift bench nn` and the PyTorch reference alternately ROUNDS times on the same machine, so both see
# the same background load, then prints medians over all runs and the Rift/PyTorch ratios.
# Usage: scripts/reference/nn_side_by_side.sh [ROUNDS=5] [REPEATS_PER_ROUND=2] [STEPS=300] [OUT_DIR=/tmp/rift-nn-sbs]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rounds="${1:-5}"
reps="${2:-2}"
steps="${3:-300}"
out="${4:-/tmp/rift-nn-sbs}"
mkdir -p "$out"
rm -f "$out"/*.json
for i in $(seq 1 "$rounds"); do
  "$root/rift" bench nn --repeats "$reps" --steps "$steps" --json "$out/rift_$i.json" > /dev/null
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 "$root/scripts/reference/torch_nn_bench.py" --repeats "$reps" --steps "$steps" --json "$out/torch_$i.json" > /dev/null
  echo "round $i/$rounds done" >&2
done
/usr/bin/python3 - "$out" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
def load(prefix):
    runs = {}
    for f in sorted(glob.glob(f"{out}/{prefix}_*.json")):
        for k, v in json.load(open(f))["metrics"].items():
            runs.setdefault(k, []).append(v)
    return runs
rift, torch = load("rift"), load("torch")
print(f"{'metric':32s} {'Rift':>10s} {'PyTorch':>10s} {'ratio':>7s}   (medians of per-round medians, {len(next(iter(rift.values())))} rounds)")
for k in sorted(rift):
    r, t = statistics.median(rift[k]), statistics.median(torch[k])
    ratio = t / r if k.endswith("_us") else r / t
    print(f"{k:32s} {r:10.1f} {t:10.1f} {ratio:6.2f}x")
PY
