# Thin wrappers. Every target first makes the virtual environment it needs, from uv.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
# uv sync keeps what another target installed (--inexact) and never re-resolves (--frozen).
SYNC := $(UV) sync --frozen --inexact --extra all

# Data for `make run`: SOURCE=... (a URL, an archive path or an extracted cifar-10-batches-py
# directory) with CHECKSUM=--sha256 HEX; a copy of the archive in ../shared/data when there is
# one; else the official archive, checked against its published md5.
LOCAL_COPY := ../shared/data/cifar-10-python.tar.gz
ifneq ($(wildcard $(LOCAL_COPY)),)
SOURCE ?= $(LOCAL_COPY)
CHECKSUM ?= --sha256 f6cb127c49ee2545f5e8eb68f4cffe2eee9fc67e59676ca447f0692db63a56e2
endif
RUN_FLAGS := $(if $(SOURCE),--source $(SOURCE) $(CHECKSUM),) $(if $(QUICK),--quick,)
FULL_RUN := make run: the cifar network for 8 epochs on all of CIFAR-10, about 75 minutes on 2 cores.
QUICK_RUN := make run QUICK=1: the article network for 6 epochs on 5,000 images, a few minutes.

# `make image`: the project image, tagged as the pipeline compiles it (ALEXNET_KFP_IMAGE overrides).
TF_FLAVOUR ?= gpu
IMAGE = $(shell $(BIN)/python -c "from alexnet_kfp.components import IMAGE; print(IMAGE)")

.PHONY: setup run test test-fast lint compile image publish image-check bench clean

setup: $(VENV)/.run

# The installs say one line each; uv and pip speak only when something fails.
$(UV):
	@echo "making $(VENV) (Python, and uv $(UV_VERSION) to install from uv.lock)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'

$(VENV)/.run: pyproject.toml uv.lock | $(UV)
	@echo "installing the locked packages into $(VENV) (a few minutes the first time)"
	@$(SYNC) --quiet
	@touch $@

$(VENV)/.test: $(VENV)/.run
	@echo "installing the test tools into $(VENV)"
	@$(SYNC) --quiet --group test
	@touch $@

$(VENV)/.lint: $(VENV)/.run
	@echo "installing the lint tools into $(VENV)"
	@$(SYNC) --quiet --group lint
	@touch $@

$(VENV)/.image: $(VENV)/.run
	@echo "installing the image tools into $(VENV)"
	@$(SYNC) --quiet --group image
	@touch $@

# The JavaScript examples' packages, pinned by examples/package-lock.json, when Node.js and npm
# are here (their tests say they are skipped without them).
EXAMPLES := examples/node_modules/.package-lock.json
$(EXAMPLES): examples/package-lock.json
	@if command -v npm >/dev/null; then \
	    echo "installing the JavaScript examples' packages (npm ci)"; \
	    npm ci --prefix examples --no-audit --no-fund --loglevel=error >/dev/null; fi

run: setup
	@echo "$(if $(QUICK),$(QUICK_RUN),$(FULL_RUN)) Each epoch line says how long the rest takes here."
	$(BIN)/alexnet-kfp run $(RUN_FLAGS)

# Two workers, each test file on one of them, so that a file's module fixtures (a server, a
# trained model) are made once.
test: $(VENV)/.test $(EXAMPLES)
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The unit tier (no training, serving, pipeline run or TensorFlow process), on every core.
test-fast: $(VENV)/.test
	$(BIN)/python -m pytest -m unit -n auto

# ruff (lint and format), mypy, the packages' layering (import-linter), the workflows
# (actionlint), and uv.lock still matching pyproject.toml.
lint: $(VENV)/.lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	bash .ci/lint-imports
	$(BIN)/actionlint
	$(UV) lock --check

# pipeline.yaml, sweep.yaml and docs/parameters.md, all made from the code (tests fail when one is stale).
compile: setup
	$(BIN)/alexnet-kfp compile
	$(BIN)/alexnet-kfp compile --sweep
	$(BIN)/python -m alexnet_kfp.pipeline.parameter_docs > docs/parameters.md.tmp
	mv docs/parameters.md.tmp docs/parameters.md

image: setup
	docker build --build-arg TF_FLAVOUR=$(TF_FLAVOUR) -t $(IMAGE) .

# `make publish REGISTRY=ghcr.io/you`: both flavours built and pushed, and dist/pipeline.yaml
# compiled to name the pushed GPU image by digest, with dist/sweep.yaml (FLAVOURS=cpu for the CPU
# flavour alone).
publish: setup
	bash .ci/publish $(REGISTRY)

# The checks CI runs on the image, each with its own private dockerd: the CPU flavour end to end
# (published to a registry on loopback and pulled back), and the GPU flavour (TensorFlow is a CUDA
# build, its CUDA/cuDNN libraries load). The serve check queries with tritonclient (test group).
image-check: $(VENV)/.image $(VENV)/.test
	bash .ci/image-check
	bash .ci/gpu-image-check

# The inference benches need a trained model and its Dataset: BENCH_MODEL=runs/<run>/.../model
# BENCH_ONNX=runs/<run>/.../onnx_model BENCH_DATA=runs/<run>/.../dataset
bench: $(VENV)/.test
	$(BIN)/python bench/data_parse_split.py
	$(BIN)/python bench/train_input_pipeline.py
	$(if $(BENCH_MODEL),$(BIN)/python bench/onnx_vs_keras.py $(BENCH_MODEL) $(BENCH_ONNX),@echo "set BENCH_MODEL and BENCH_ONNX for bench/onnx_vs_keras.py")
	$(if $(BENCH_DATA),$(BIN)/python bench/int8_choices.py $(BENCH_ONNX) $(BENCH_DATA),@echo "set BENCH_ONNX and BENCH_DATA for bench/int8_choices.py")

clean:
	rm -rf $(VENV) runs dist .pytest_cache .mypy_cache .ruff_cache
