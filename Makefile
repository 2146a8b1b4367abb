# Two commands on a fresh machine: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The embedded model's runtime (llama-cpp-python) is compiled on first install: ~13 min on 2 cores.
# It is built for a portable CPU baseline, never -march=native: a native build segfaults on CPUs
# whose features ggml mishandles (AMX on recent Xeons) and cannot move between machines. The
# wheel is kept in a cache keyed by these flags, because pip's own wheel cache ignores CMAKE_ARGS.
ARCH := $(shell uname -m)
ifeq ($(ARCH),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
endif
LLAMA_VERSION ?= 0.3.36
LLAMA_WHEELS := $(HOME)/.cache/openxiv/wheels/llama-$(LLAMA_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | cksum | cut -d' ' -f1)
RUN_EXTRAS := local
TEST_EXTRAS := local,postgres,redis,s3,embeddings,dev

.PHONY: run test install-run install-test lint bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel

$(VENV)/.installed-llama: | $(VENV)/bin/activate
	@ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 $(PIP) wheel --quiet --no-deps --no-cache-dir \
	    -w $(LLAMA_WHEELS) "llama-cpp-python==$(LLAMA_VERSION)"
	$(PIP) install --quiet --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.installed-llama
	$(PIP) install --quiet -e ".[$(RUN_EXTRAS)]"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-llama
	# CPU build of torch first (for the optional embeddings), so pip does not fetch a CUDA build.
	$(PIP) install --quiet "torch==2.13.0" || true
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@ $(VENV)/.installed-run

install-run: $(VENV)/.installed-run
install-test: $(VENV)/.installed-test

# `make run` is a demo on this machine: demo mode (the demo accounts' password is in the README)
# and a random secret key, created once in var/secret_key (docs/security.md).
run: export OPENXIV_MODE ?= demo
run: install-run
	$(VENV)/bin/openxiv secret
	$(VENV)/bin/openxiv db upgrade
	$(VENV)/bin/openxiv demo
	$(VENV)/bin/openxiv serve --with-worker

# `openxiv doctor` first, on a throwaway site set up as `make run` does (a secret key, the schema):
# a broken installation (an embedded model that crashes on this CPU) is one line saying so, not a
# crashed test.
test: install-test
	@site=$$(mktemp -d) && cd $$site && export OPENXIV_CONFIG=$$site/none.toml && \
	  $(CURDIR)/$(VENV)/bin/openxiv secret >/dev/null && \
	  $(CURDIR)/$(VENV)/bin/openxiv db upgrade >/dev/null && $(CURDIR)/$(VENV)/bin/openxiv doctor; \
	  status=$$?; rm -rf $$site; exit $$status
	$(VENV)/bin/pytest -n 2 --dist loadgroup

lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache
