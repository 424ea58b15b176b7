# openisp: `make demo` and `make test` set up everything they need, idempotently.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SCENARIO ?= topologies/default.yaml

.PHONY: setup system venv demo test unit integration bench bench-load doctor check clean mutants

setup: system venv

system:
	@bash scripts/ensure-system.sh

# The venv is rebuilt only when the pins or the project metadata change.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "openisp needs Python >= 3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

demo: setup
	$(BIN)/openisp run $(SCENARIO)

# Both tiers. The integration tier needs root; under CI it fails rather than skips.
test: setup unit integration

unit: venv
	$(BIN)/python -m pytest -q --doctest-modules tests/unit topologies controller dataplane openisp grafana bench/results.py bench/load.py

integration: setup
	$(BIN)/python -m pytest -q -m integration tests/integration

# Benchmarks print ratios against baselines measured in the same run, and write them as
# OpenMetrics (bench/out/results-*.om) that bench-load turns into a Prometheus database.
BENCH_RESULTS := bench/out/results-$(shell date -u +%Y%m%d-%H%M%S).om
bench: setup
	OPENISP_BENCH_RESULTS=$(BENCH_RESULTS) $(BIN)/python bench/auction.py
	OPENISP_BENCH_RESULTS=$(BENCH_RESULTS) $(BIN)/python bench/rules.py
	OPENISP_BENCH_RESULTS=$(BENCH_RESULTS) $(BIN)/python bench/traffic.py
	$(BIN)/python bench/emulation.py
	$(BIN)/python bench/load.py

bench-load: venv
	$(BIN)/python bench/load.py

# Mutation testing of the pure core (not in CI: hours on 2 cores; see docs/testing.md).
mutants: venv
	bash scripts/mutants.sh

doctor: venv
	$(BIN)/openisp doctor

check: venv
	$(BIN)/openisp check topologies/default.yaml topologies/library/*.yaml

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info .mutants
