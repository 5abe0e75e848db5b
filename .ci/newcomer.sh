#!/usr/bin/env bash
# The newcomer stage: a fresh virtual environment made with exactly the README's first install
# command (no extras, no torch), in which the CLI, an end-to-end smoke pipeline and an import of
# every module that needs no optional extra must work. The test environment gets packages by
# accident (jinja2 through torch once hid a missing runtime dependency); this one cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .venv-newcomer
python3 -m venv .venv-newcomer
. .venv-newcomer/bin/activate
python -m pip install --quiet --upgrade pip
start=$SECONDS
pip install -e .
echo "newcomer: pip install -e . took $((SECONDS - start)) s"
gentool-jax --help > /dev/null
python .ci/import_modules.py
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
start=$SECONDS
gentool-jax pipeline --config=configs/smoke.py --config.workdir="$workdir/smoke"
test -f "$workdir/smoke/export/adapter/adapter_config.json"
echo "newcomer: the smoke pipeline ran end to end in $((SECONDS - start)) s"
deactivate
