# Two entry points: `make run` (the main job) and `make test`. Both create .venv and install
# everything on first use (torch pinned first: an unpinned torch pulls CUDA wheels).
# The editable install hides setuptools' notice that our layout (methods/ -> fusionbench.methods)
# is served by an import hook: it is printed on every install and asks nothing of the user.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	@echo "Installing into $(VENV): torch==2.13.0, then fusionbench and its test extras (1-2 minutes the first time)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	@$(BIN)/python -m pip install --quiet torch==2.13.0
	@PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The main job: Lytro x {ufa, dwt, gff} x the seven metrics of the UFA-Fuse paper when the data
# are present (FUSIONBENCH_DATA, else ../shared/datasets beside the clone), else the embedded
# synthetic set; prints where report.html is.
run: $(STAMP)
	@data="$${FUSIONBENCH_DATA:-}"; \
	if [ -z "$$data" ] && [ -d ../shared/datasets ]; then data="$$(cd ../shared/datasets && pwd)"; fi; \
	FUSIONBENCH_DATA="$$data" $(BIN)/fusionbench run --workers auto

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks --benchmark-enable --benchmark-only

clean:
	rm -rf $(VENV) build *.egg-info
