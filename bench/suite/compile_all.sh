#!/usr/bin/env bash
# Compile every task of the public suite with no hints, the way a user would, and log each stage.
#   bash bench/suite/compile_all.sh [TEACHER] [OUT]     (default local:teacher, build/suite/skills)
# Per task: the `skillc compile` log (a line per stage), its exit code and wall time, in OUT/<task>.log.
set -u
teacher="${1:-local:teacher}"
out="${2:-build/suite/skills}"
mkdir -p "$out"
for task in bench/suite/*/task.yaml; do
  name=$(basename "$(dirname "$task")")
  started=$(date +%s)
  .venv/bin/skillc compile "$task" --teacher "$teacher" --out "$out/$(python3 -c "import yaml,sys; print(yaml.safe_load(open('$task'))['name'])")" \
    > "$out/$name.log" 2>&1
  code=$?
  echo "$name exit=$code seconds=$(( $(date +%s) - started ))" | tee -a "$out/summary.txt"
done
