# Two commands on a fresh machine: `make demo` (the study on the embedded digits data) and
# `make test`. Both create .venv with the pinned requirements first if it is missing or stale.
# After `make demo`: `make report` (one HTML page) and `make docs` (the demo's summary, tables and
# figures copied into docs/demo/, where README.md and docs/*.md quote them).
SHELL := /bin/bash
VENV ?= .venv
BOOTSTRAP_PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTHON := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
CORES ?= all
# `make plan`: the config to plan and, optionally, a finished pilot run's results/ folder.
CONFIG ?= config.yaml
PILOT ?=

.PHONY: demo report docs test lint format dry-run plan clean-results

$(INSTALLED): requirements.txt
	@test -x $(PYTHON) || $(BOOTSTRAP_PYTHON) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-* && touch $@

demo: $(INSTALLED)  ## Run the whole study on config.yaml (digits) and draw every figure
	$(VENV)/bin/snakemake --cores $(CORES)

report: $(INSTALLED)  ## After `make demo`: every figure and table with its caption in results/report.html
	$(VENV)/bin/snakemake --cores $(CORES) --report results/report.html

docs: $(INSTALLED)  ## After `make demo`: its tables, figures and job times into docs/demo/; the paper configs' plans into docs/plans/
	mkdir -p docs/plans
	for name in paper paper_budget; do \
	  $(PYTHON) workflow_scripts/plan.py --config configs/$$name.yaml --output docs/plans/$$name.json \
	    > docs/plans/$$name.txt || exit 1; \
	done
	$(PYTHON) tools/demo_docs.py --results results --out docs/demo --plans docs/plans
	$(PYTHON) benchmarks/job_fixed_cost.py --results . > docs/demo/job_times.md

test: $(INSTALLED)  ## Unit, workflow and (where root and apt allow) SLURM tests, plus style checks
	$(PYTHON) -m pytest --durations=10

lint: $(INSTALLED)  ## Only the style checks
	$(PYTHON) -m pytest tests/style/test_style.py

format: $(INSTALLED)  ## Rewrite code in the project's style
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix . && $(VENV)/bin/snakefmt Snakefile rules

dry-run: $(INSTALLED)  ## What `make demo` would run now, per rule
	$(VENV)/bin/snakemake -n --quiet rules

plan: $(INSTALLED)  ## What CONFIG costs before any job runs (PILOT=results/: what its Table 1 can conclude)
	$(PYTHON) workflow_scripts/plan.py --config $(CONFIG) $(if $(PILOT),--pilot $(PILOT)) --output results/plan.json

clean-results:  ## Remove results/ and Snakemake's metadata (keeps .venv)
	rm -rf results .snakemake
