#!/usr/bin/env bash
# The whole public suite, one set at a time (small sets first), each resumable from its caches:
#   bash bench/suite/run_all.sh [LOG_DIR]          (default build/suite-run)
# Each set's stderr goes to LOG_DIR/<set>.log; every invocation ends by redrawing bench/results/suite/suite.{md,json,png}.
set -u
logs="${1:-build/suite-run}"
mkdir -p "$logs"
for set in product-ie utility_price_parsing date-booking finance_calc event_categories brazilian_laws qa; do
  started=$(date +%s)
  .venv/bin/skillc bench suite --data ../shared/data/evals --sets "$set" > "$logs/$set.out" 2> "$logs/$set.log"
  echo "$set exit=$? seconds=$(( $(date +%s) - started ))" | tee -a "$logs/summary.txt"
done
