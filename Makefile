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
# `make run QUICK=1`: a laptop-sized run (500 images per class, 6 epochs) instead of the full job.
RUN_FLAGS := $(if $(QUICK),--quick,)

# `make image`: the project image, tagged as the pipeline compiles it (ALEXNET_KFP_IMAGE overrides).
TF_FLAVOUR ?= gpu
IMAGE = $(shell $(BIN)/python -c "from alexnet_kfp.components import IMAGE; print(IMAGE)")

.PHONY: setup run test compile image image-check bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	touch $@

run: setup
	$(BIN)/alexnet-kfp run --source $(SOURCE) $(CHECKSUM) $(RUN_FLAGS)

compile: setup
	$(BIN)/alexnet-kfp compile

image: setup
	docker build --build-arg TF_FLAVOUR=$(TF_FLAVOUR) -t $(IMAGE) .

# The checks CI runs on the image, each with its own private dockerd: the CPU flavour end to end,
# and the GPU flavour (TensorFlow is a CUDA build, its CUDA/cuDNN libraries load).
image-check: setup
	bash .ci/image-check
	bash .ci/gpu-image-check

test: setup
	$(BIN)/python -m pytest

# The inference benches need a trained model and its Dataset: BENCH_MODEL=runs/<run>/.../model
# BENCH_ONNX=runs/<run>/.../onnx_model BENCH_DATA=runs/<run>/.../dataset
bench: setup
	$(BIN)/python bench/data_parse_split.py
	$(BIN)/python bench/train_input_pipeline.py
	$(if $(BENCH_MODEL),$(BIN)/python bench/onnx_vs_keras.py $(BENCH_MODEL) $(BENCH_ONNX),@echo "set BENCH_MODEL and BENCH_ONNX for bench/onnx_vs_keras.py")
	$(if $(BENCH_DATA),$(BIN)/python bench/int8_choices.py $(BENCH_ONNX) $(BENCH_DATA),@echo "set BENCH_ONNX and BENCH_DATA for bench/int8_choices.py")

clean:
	rm -rf $(VENV) runs .pytest_cache
