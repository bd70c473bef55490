# Thin wrappers: every target creates the virtual environment it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# On machines without internet but with the project's shared mirror (../shared/data), `make run`
# uses the mirror; elsewhere it downloads the official archive (checked against its md5).
SHARED_ARCHIVE := ../shared/data/cifar-10-python.tar.gz
ifneq ($(wildcard $(SHARED_ARCHIVE)),)
SOURCE ?= $(SHARED_ARCHIVE)
CHECKSUM ?= --sha256 f6cb127c49ee2545f5e8eb68f4cffe2eee9fc67e59676ca447f0692db63a56e2
else
SOURCE ?= https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz
CHECKSUM ?=
endif
RUN_DIR ?= runs/$(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: setup run test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $@

run: setup
	$(BIN)/alexnet-kfp data --source $(SOURCE) $(CHECKSUM) --out $(RUN_DIR)/dataset

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/data_parse_split.py

clean:
	rm -rf $(VENV) runs .pytest_cache
