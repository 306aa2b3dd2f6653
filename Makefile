# The two commands of the quick start are `make demo` and `make test`; both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@echo "$$ aib-doctor analyze fixtures/logs/windows-sysprep-timing-failed.log"
	@$(BIN)/aib-doctor analyze fixtures/logs/windows-sysprep-timing-failed.log; code=$$?; \
	  echo "(exit code $$code: 1 means a failure was found and explained)"; test $$code -eq 1

# Azurite, the Azure Blob emulator the tests start on 127.0.0.1 (npm, pinned in package.json).
AZURITE := node_modules/.bin/azurite-blob

$(AZURITE): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $(AZURITE)

# Style and layering first (seconds), then every test, Azure adapters included.
test: $(STAMP) $(AZURITE)
	$(BIN)/ruff check aib_doctor tests bench scripts
	$(BIN)/ruff format --check --quiet aib_doctor tests bench scripts
	$(BIN)/lint-imports --no-cache >/dev/null || $(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/analyze_bench.py

clean:
	rm -rf $(VENV) bench/out .pytest_cache
