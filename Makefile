# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The embedded model's runtime (llama-cpp-python) is compiled on first install: ~13 min on 2 cores.
RUN_EXTRAS := local
TEST_EXTRAS := local,postgres,redis,s3,embeddings,dev

.PHONY: run test install-run install-test lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[$(RUN_EXTRAS)]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/activate
	# CPU build of torch first (for the optional embeddings), so pip does not fetch a CUDA build.
	$(PIP) install --quiet "torch==2.13.0" || true
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.installed-run

install-run: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

run: install-run
	$(VENV)/bin/openxiv db upgrade
	$(VENV)/bin/openxiv demo
	$(VENV)/bin/openxiv serve --with-worker

test: install-test
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
