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

# The end-to-end part (full report builds, PostgreSQL, headless Chromium: mostly waiting on kernels) runs beside
# the rest, so both cores work; its log is printed after the rest and either part failing fails the target.
E2E := slow or postgres or browser
test: $(STAMP)
	@mkdir -p test-output
	@echo "make test: the end-to-end tests run alongside; their log (test-output/end-to-end.log) follows at the end"
	@$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 -m "$(E2E)" tests > test-output/end-to-end.log 2>&1 & e2e=$$!; \
	$(BIN)/python -m pytest -q --durations=20 -m "not ($(E2E))" --nbval-lax tests notebooks; rest=$$?; \
	wait $$e2e; e2e_rc=$$?; echo "---- end-to-end tests ($(E2E)) ----"; cat test-output/end-to-end.log; \
	test $$rest -eq 0 && test $$e2e_rc -eq 0

# the quick loop: no end-to-end report runs, notebooks, PostgreSQL or browser (`make test` runs everything)
test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -m "not ($(E2E))" tests

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
