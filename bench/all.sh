#!/usr/bin/env bash
# Runs every benchmark one after another (never in parallel: they share 2 cores) and keeps what each printed in
# bench/results/<name>.txt, with the machine's load before each one.
# Usage: pnpm bench [--quick] [name ...]   (names: data train tfjs serving accuracy db api ops; default all)
#   --quick skips the 25M-row runs (parse, one scale epoch), which need a few minutes and a 645 MB temp file, and
#   the 10-minute soak.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
quick=
if [ "${1:-}" = --quick ]; then quick=--quick; shift; fi
groups=" ${*:-data train tfjs serving accuracy db api ops} "
want() { [[ "$groups" == *" $1 "* ]]; }
run() {
  out=bench/results/$group.txt
  { echo; echo "### $* — $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"; } | tee -a "$out"
  pnpm exec tsx "$@" 2>&1 | tee -a "$out"
}
start() { group=$1; : > "bench/results/$group.txt"; }
if want data; then
  start data
  run bench/data-bundled.ts
  [ -n "$quick" ] || run bench/data-parse.ts
fi
if want train; then
  start train
  run bench/train-speed.ts
  [ -n "$quick" ] || run bench/train-speed.ts --scale --engine sgd
  [ -n "$quick" ] || run bench/train-speed.ts --scale
fi
if want tfjs; then start tfjs; run bench/tfjs-speed.ts; fi
if want serving; then start serving; run bench/serving-primitives.ts; fi
if want accuracy; then
  start accuracy
  run bench/accuracy.ts --only reference,default --folds 5 --seed 42
  run bench/accuracy-ranking.ts
fi
if want db; then start db; run bench/db-import.ts; run bench/db-read.ts; fi
if want api; then start api; run bench/api-load.ts --seconds 10; run bench/api-wrk.ts --seconds 10; fi
if want ops; then
  start ops
  run bench/replica-lag.ts --ratings 100 --activations 5
  run bench/replicas-rps.ts --seconds 10
  [ -n "$quick" ] || run bench/soak.ts --minutes 10
fi
echo "figures kept in bench/results/"
