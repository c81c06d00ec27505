# Two commands do all the set-up on a fresh machine:
#   make run   -> venv + packages + offline map assets, then the dashboard on the sample city
#   make test  -> the same set-up, then the whole test suite
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
ASSETS  := static/vendor/.installed
PORT    ?= 8501
PYTEST_ARGS ?=

.PHONY: run test setup lint bench bench-quick sample clean lock

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/pip install -q -e '.[app,test,dev,dask]' 2>&1 | grep -v "is ignored" || true
	$(BIN)/python -c "import planner, geopandas, streamlit, folium"
	touch $@

$(ASSETS): scripts/vendor_assets.py scripts/vendor_assets.sh
	PYTHON=$(BIN)/python bash scripts/vendor_assets.sh static/vendor
	touch $@

run: setup
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: setup
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

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

# The hosted dashboard's pinned dependencies with hashes (install: pip install --require-hashes -r requirements-app.lock)
lock: setup
	$(BIN)/pip install -q uv 2>&1 | grep -v "is ignored" || true
	$(BIN)/uv pip compile pyproject.toml --extra app --generate-hashes --python-version 3.11 --universal \
		--custom-compile-command "make lock" -o requirements-app.lock

clean:
	rm -rf $(VENV) static/vendor planner/maps/vendor out
