#!/usr/bin/env bash
# `make mutants`: mutation testing of the pure core with mutmut, on a scratch copy of
# the tree (.mutants/, kept between runs so mutmut only re-tests what changed), then
# the score per package.  Not part of CI: all of it takes hours on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work="$root/.mutants"
mkdir -p "$work"
# A fresh copy of the tree (committed or not), keeping mutmut's own state in .mutants/mutants.
find "$work" -mindepth 1 -maxdepth 1 ! -name mutants -exec rm -rf {} +
tar -C "$root" --exclude ./.git --exclude ./.venv --exclude ./.mutants --exclude ./runs \
    --exclude ./.hypothesis --exclude ./.pytest_cache -cf - . | tar -C "$work" -xf -
cd "$work"
# MUTANTS='controller.cookies*' limits the run to the mutants of one module.
"$root/.venv/bin/mutmut" run --max-children "${JOBS:-2}" ${MUTANTS:-} >mutmut-run.log 2>&1 || true
"$root/.venv/bin/mutmut" results --all true >mutmut-results.txt 2>&1
"$root/.venv/bin/python" "$root/scripts/mutant_score.py" mutmut-results.txt --modules
