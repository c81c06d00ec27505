# Two commands do all the set-up on a fresh machine:
#   make run   -> venv + packages + offline map assets, then the dashboard on the sample city
#   make test  -> the same set-up, then the whole test suite
SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
PY      ?= python3
VENV    := .venv
LOCK    := requirements.lock
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ASSETS  := static/vendor/.installed
PORT    ?= 8501
PYTEST_ARGS ?=

.PHONY: run test setup lint bench bench-quick sample clean lock

setup: $(STAMP) $(ASSETS)

# Every package comes from the lock (exact versions with hashes, all extras); the project itself is
# installed on top without dependencies and without build isolation (its build tools are locked too).
# A failing install fails the command (pipefail; the filter only hides this machine's notes about
# local package folders that do not exist).
$(STAMP): pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK) 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e . 2>&1 | { grep -v "is ignored" || true; }
	$(BIN)/python -m pip check
	$(BIN)/python -c "import planner, geopandas, streamlit, folium, pytest, playwright"
	touch $@

$(ASSETS): scripts/vendor_assets.py scripts/vendor_assets.sh
	PYTHON=$(BIN)/python bash scripts/vendor_assets.sh static/vendor
	touch $@

# `planner dashboard` sets its own Streamlit settings and, without sign-in, listens on loopback only
run: setup
	$(BIN)/planner dashboard --port $(PORT)

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=20 $(PYTEST_ARGS)

# Gates: ruff (incl. complexity ≤ 14, ≤ 12 arguments, numpy docstrings), format, mypy, and sizes
# (functions ≤ 80 own lines, modules ≤ 800 lines); exemptions only for tests (pyproject.toml)
lint: setup
	$(BIN)/ruff check planner tests app.py bench scripts setup.py
	$(BIN)/ruff format --check planner tests app.py bench scripts setup.py
	$(BIN)/mypy
	$(BIN)/python scripts/check_sizes.py planner app.py bench scripts

bench: setup
	$(BIN)/python -m bench.run

bench-quick: setup
	$(BIN)/python -m bench.run --quick

sample: setup
	$(BIN)/planner synth --out sample_data --seed 20261128

# The one lock (every extra: app, test, dev, dask; hashes; every platform), made by the uv pinned in
# the dev extra. After changing dependencies in pyproject.toml: make lock, then make setup.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra app --extra test --extra dev --extra dask \
		--generate-hashes --universal --python-version 3.11 \
		--custom-compile-command "make lock" -o $(LOCK)

clean:
	rm -rf $(VENV) static/vendor planner/maps/vendor out
