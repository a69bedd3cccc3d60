# The README's commands. Every target prepares what it needs, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA ?= $(CURDIR)/data
export ROI_DATA_DIR ?= $(DATA)
export DAGSTER_HOME ?= $(ROI_DATA_DIR)/dagster_home
export PATH := $(CURDIR)/$(BIN):$(PATH)
MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v '/target/')

.PHONY: run live test ui bi serve bench lint lock prepare system-packages browser-packages clean
# Where prepare's installers write (shown only when they fail).
PREPARE_LOG := $(ROI_DATA_DIR)/logs/prepare.log

# The world writes its history into the landing zone (once); the product catches up on the landed
# days (one backfill run of ingest_daily), runs refresh_all (full search), then the sensor's path
# for the documents waiting in the landing zone (one run per document, as `make ui`'s daemon would
# launch), the drift of those documents (monitoring_daily's job in the daemon), then the BI copy
# (which the daemon's publish_bi sensors launch after each run). Meanwhile, at the lowest CPU
# priority, the landing zone's documents are read ahead into the reading cache
# (roi_assets/documents/background_reading.py). roi_assets/runner.py runs these
# stages: one line each with its time, their output in data/logs/, the summary at the end whatever
# happened; the exit status is non-zero when a step broke (or the run never started), zero when
# the only failures were validation gates blocking candidates.
run: prepare
	@$(BIN)/python -m roi_assets.runner run

# The world advances one day at a time and the product runs each day's scheduled jobs as the
# daemon would, until the world has lived DAYS days (an interrupted run continues where it was).
DAYS ?= 35
live: prepare
	@$(BIN)/python -m roi_assets.runner live --days $(DAYS)

test: prepare browser-packages
	$(BIN)/python -m pytest -q

# Ctrl-C (or SIGINT/SIGTERM to the launcher) stops the webserver, the daemon and the code servers.
ui: prepare
	@$(BIN)/python -m roi_assets.foreground -- $(BIN)/dagster dev -w workspace.yaml

# The BI starter: a read-only dashboard over data/bi.duckdb (README: BI), http://127.0.0.1:8501.
BI_PORT ?= 8501
bi: prepare
	@$(BIN)/python -m roi_assets.foreground -- $(BIN)/python -m roi_assets.bi --port $(BI_PORT)

# The scoring API on loopback, on the registry's champions and data/bi.duckdb (README: Serving).
serve: prepare
	@test -n "$$ROI_API_KEY" || { echo "set ROI_API_KEY (clients send it as X-API-Key)" >&2; exit 2; }
	$(BIN)/python -m roi_assets.serving --host 127.0.0.1 --port 8000

bench: prepare
	$(BIN)/python benchmarks/run_all.py

lint: prepare
	$(BIN)/ruff check roi_assets roi_assets_tests benchmarks
	$(BIN)/ruff format --check roi_assets roi_assets_tests benchmarks

prepare: system-packages $(VENV)/.installed $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

# Installs Debian packages once when `$(1)` is missing (root, or sudo when available); apt's
# output goes to the prepare log, shown only when it fails.
define apt_install
	@command -v $(1) >/dev/null 2>&1 || { \
	  mkdir -p $(dir $(PREPARE_LOG)); echo "installing $(2) (apt; log: $(PREPARE_LOG))"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	    $$SUDO apt-get install -y -qq $(2); } >>$(PREPARE_LOG) 2>&1 \
	  || { tail -n 40 $(PREPARE_LOG); exit 1; }; }
endef

# OCR needs Tesseract's language data (eng, osd), which Debian's tesseract-ocr brings.
system-packages:
	$(call apt_install,tesseract,tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd)

# The browser test drives Debian's Chromium (never a downloaded browser build).
browser-packages:
	$(call apt_install,chromium,chromium)

# Installs from the committed constraints, so a fresh machine resolves today's versions.
$(VENV)/.installed: pyproject.toml setup.cfg constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@mkdir -p $(dir $(PREPARE_LOG)); echo "installing Python packages (pip; log: $(PREPARE_LOG))"
	@{ $(BIN)/python -m pip install -q --upgrade pip setuptools wheel && \
	  $(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'; } >>$(PREPARE_LOG) 2>&1 \
	  || { tail -n 40 $(PREPARE_LOG); exit 1; }
	@touch $@

# Regenerate constraints.txt on purpose, after a dependency in pyproject.toml changed.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable \
	  | grep -v -i '^roi-assets' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.new
	mv constraints.new constraints.txt

$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	@cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $@

clean:
	rm -rf $(DATA) dbt_project/target
