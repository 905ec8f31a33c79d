# Sales Science Workbook: two commands do everything on a fresh machine.
#   make report   set up .venv (first use) and build the month's report on the bundled sample data
#   make test     set up .venv (first use) and run the tests (make test-quick: without the slow end-to-end part)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/sample
JOBS   ?= 2
KERNEL := sales-science-workbook
EXTRAS ?= test

.PHONY: setup report validate test test-quick lab sample bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name $(KERNEL) --display-name "Sales Science Workbook"
	touch $(STAMP)

setup: $(STAMP)

report: $(STAMP)
	$(BIN)/sales-workbook report --data $(DATA) --jobs $(JOBS)

validate: $(STAMP)
	$(BIN)/sales-workbook validate $(DATA)

test: $(STAMP)
	$(BIN)/python -m pytest -q --nbval-lax tests notebooks

# the quick loop: no end-to-end report runs, notebooks, PostgreSQL or browser (`make test` runs everything)
test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not postgres and not browser" tests

# As root (containers) Jupyter needs --allow-root; without a display it opens no browser. More flags:
#   make lab LAB_ARGS="--port 8899 --ServerApp.ip=0.0.0.0"
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_HEADLESS := $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser)
lab: $(STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(BIN)/jupyter lab $(LAB_ROOT) $(LAB_HEADLESS) $(LAB_ARGS) notebooks/

sample: $(STAMP)
	$(BIN)/sales-workbook sample --out $(DATA)

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) reports/*/ .pytest_cache
