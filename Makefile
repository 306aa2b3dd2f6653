# The two commands of the quick start are `make demo` and `make test`; both set up what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-min docs vocabulary bench clean

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

# The declared dependency floors, pinned (.ci/constraints-min.txt), in a venv of their own: the whole suite again.
# PYTHON_MIN=python3.10 tests the oldest Python too.
PYTHON_MIN ?= $(PYTHON)
MIN_VENV   := .venv-min

test-min: $(AZURITE)
	rm -rf $(MIN_VENV)
	$(PYTHON_MIN) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -c .ci/constraints-min.txt -e '.[test]'
	$(MIN_VENV)/bin/python -m pip list --format=freeze | grep -iE '^(typer|click|rich|pyyaml|platformdirs|google-re2|azure-[a-z-]+|tomli|typing.extensions)=='
	$(MIN_VENV)/bin/python -m pytest -q -p no:cacheprovider

# docs/rules.md's reference part, generated from the catalog and the template checks (a test fails when it is stale).
docs: $(STAMP)
	$(BIN)/python scripts/rules_reference.py docs/rules.md

# The vocabulary fallback's model, counted from the seeds, the rules' cases and the corpus's tuning part (a test fails when it is stale).
vocabulary: $(STAMP)
	$(BIN)/python scripts/derive_vocabulary.py

bench: $(STAMP)
	$(BIN)/python bench/analyze_bench.py

clean:
	rm -rf $(VENV) $(MIN_VENV) bench/out .pytest_cache
