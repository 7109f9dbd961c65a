# The two commands: `make run` and `make test` (see README.md).
# The newest suitable interpreter (requires-python >= 3.11): python3.13, then 3.12, then 3.11.
# (a pyenv shim of a version not selected does not run, so each candidate must answer first)
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && command -v $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench install lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || test -n "$(PYTHON)" || { echo "Python 3.11 ou plus récent est requis : ni python3.13, ni python3.12, ni python3.11 n'a été trouvé (ou indiquez make PYTHON=/chemin/vers/python3)." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	scripts/system-libraries
	$(BIN)/aap secret init
	$(BIN)/aap db upgrade
	$(BIN)/aap demo --if-empty
	$(BIN)/aap serve --workers 1

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest's exit code 5 (no test collected) is a failure here, not a silent pass. The tests run in
# parallel, one process per core (TEST_WORKERS=0 for one process), each on its own databases.
TEST_WORKERS ?= auto
test: lint
	scripts/system-libraries
	@rc=0; scripts/with-postgres $(BIN)/pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "Aucun test n'a été exécuté." >&2; exit 1; fi; exit $$rc

bench: install
	scripts/with-postgres $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-newest var .pytest_cache .ruff_cache .mypy_cache
