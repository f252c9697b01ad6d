# okr-operator — developer entry points. Every target sets itself up (virtualenv, install, tool builds).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

.PHONY: help install test unit integration lint fmt crds examples argocd-cm dashboards tools demo demo-down bench bench-quick clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml
	@test -x $(PY) || { echo ">> creating virtualenv $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo ">> installing okr-operator and dev dependencies into $(VENV)"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP) ## create .venv and install the package with dev dependencies

TOOL_GROUPS ?= core helm scheduler kwok argo-rollouts sloth oslo prometheus-operator argo-cd

tools: $(STAMP) ## build/cache the upstream tools the tests use (kube-apiserver, etcd, prometheus, helm, ...)
	@$(PY) -m e2e.tools.build $(TOOL_GROUPS)

test: $(STAMP) tools ## run every test tier (unit, promtool rules, e2e on the local control plane)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

unit: $(STAMP) ## run the tests that need no built tools and no cluster (no make tools needed)
	@OKR_NO_TOOLS=1 $(PY) -m pytest -m 'not e2e and not tools' $(PYTEST_ARGS)

integration: $(STAMP) tools ## the tests that run built tools (promtool, Prometheus, helm, oslo, sloth) but no cluster
	@$(PY) -m pytest -m 'tools and not e2e' $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (check and format) and the type check of operator/ (mypy, configured in pyproject.toml)
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

fmt: $(STAMP) ## format with ruff
	@$(VENV)/bin/ruff check --fix .
	@$(VENV)/bin/ruff format .

crds: $(STAMP) ## regenerate crds/ from the pydantic models (and their copies in config/ and the chart)
	@$(VENV)/bin/okrctl crds -o crds/
	@cp crds/*.yaml config/crd/bases/
	@cp crds/*.yaml charts/okr-operator/crds/

examples: $(STAMP) ## regenerate the golden pairs examples/_gen/ from examples/*.yaml (okrctl generate / convert)
	@$(PY) -m examples.regenerate

dashboards: $(STAMP) ## regenerate the shipped Grafana dashboards (chart and config/dashboards) from the code
	@$(VENV)/bin/okrctl dashboards -o charts/okr-operator/dashboards
	@$(VENV)/bin/okrctl dashboards -o config/dashboards

argocd-cm: $(STAMP) ## render the health.lua checks from config/argocd/lua/, then config/argocd/argocd-cm-patch.yaml
	@$(PY) -m okr_operator.deploy health-lua --write
	@$(PY) -m okr_operator.deploy argocd-cm --write

demo: $(STAMP) ## local demo: control plane, Prometheus, operator, sample OKRs -> kubectl get objectives
	@$(PY) -m e2e.demo up

demo-down: ## stop the demo and remove .demo/
	@test -x $(PY) && $(PY) -m e2e.demo down || rm -rf .demo

bench: $(STAMP) tools ## full benchmarks (rules vs Sloth/Pyrra, alert equivalence, operator at 1k/10k) -> bench/results.{md,json}
	@$(PY) -m pip install -q 'py-spy==0.4.3'
	@$(PY) -m bench

bench-quick: $(STAMP) tools ## small benchmarks (CI): fail when a generated rule file stops loading or queries grow with objects
	@$(PY) -m bench --quick

clean: ## remove the virtualenv and caches (not ~/.cache/okr-operator)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
