#!/usr/bin/env bash
# Runs every benchmark one after another (never in parallel: they share 2 cores) and keeps what each printed in
# bench/results/latest.txt, with the machine's load before each one. Usage: pnpm bench [--quick]
#   --quick skips the 25M-row runs (parse, one scale epoch), which need a few minutes and a 645 MB temp file.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
out=bench/results/latest.txt
quick=${1:-}
: > "$out"
run() {
  { echo; echo "### $* — $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"; } | tee -a "$out"
  pnpm exec tsx "$@" 2>&1 | tee -a "$out"
}
run bench/data-bundled.ts
[ "$quick" = --quick ] || run bench/data-parse.ts
run bench/train-speed.ts
[ "$quick" = --quick ] || run bench/train-speed.ts --scale --engine sgd
[ "$quick" = --quick ] || run bench/train-speed.ts --scale
run bench/tfjs-speed.ts
run bench/serving-primitives.ts
run bench/accuracy.ts --only reference,default --folds 5 --seed 42
run bench/accuracy-ranking.ts
run bench/db-import.ts
run bench/db-read.ts
run bench/api-load.ts --seconds 10
echo "all figures: $out"
