# OpenVPP — the two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test bench clean browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP_RUN) $@

demo: $(STAMP_RUN)
	$(VENV)/bin/openvpp demo

# Browser tests drive Debian's Chromium through Playwright; CI installs it when it is missing.
browser:
	@if [ "$${CI:-}" = "true" ] && ! command -v chromium >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi

test: $(STAMP_DEV) browser
	$(VENV)/bin/ruff check openvpp tests benchmarks
	$(VENV)/bin/mypy openvpp
	$(VENV)/bin/sphinx-build -W -q -j 2 -b html docs/reference docs/_build/reference
	$(PY) -m pytest -n 2 --dist loadfile -q

bench: $(STAMP_DEV)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) openvpp-out docs/_build docs/reference/generated .pytest_cache .benchmarks .mypy_cache .ruff_cache .hypothesis
