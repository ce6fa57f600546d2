#!/usr/bin/env bash
# The whole public suite, one set at a time (small sets first), each resumable from its caches:
#   bash bench/suite/run_all.sh [LOG_DIR [SET ...]]   (default build/suite-run, every set)
# Each set's stderr goes to LOG_DIR/<set>.log; every invocation ends by redrawing bench/results/suite/suite.{md,json,png}.
set -u
logs="${1:-build/suite-run}"
mkdir -p "$logs"
shift $(( $# > 0 ? 1 : 0 ))
sets="${*:-product-ie utility_price_parsing date-booking event_categories brazilian_laws finance_calc qa}"
for set in $sets; do
  started=$(date +%s)
  .venv/bin/skillc bench suite --data ../shared/data/evals --sets "$set" > "$logs/$set.out" 2> "$logs/$set.log"
  echo "$set exit=$? seconds=$(( $(date +%s) - started ))" | tee -a "$logs/summary.txt"
done
