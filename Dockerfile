# The one image every pipeline component runs in (Lightweight Python components with this image
# as base_image). GPU-capable by default: TensorFlow with its CUDA libraries from PyPI on a plain
# Python base, so any node with an NVIDIA driver and the container toolkit runs it; no CUDA base
# image to keep in step with TensorFlow. TF_FLAVOUR=cpu gives the smaller CPU-only image.
#   docker build -t ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0 .                       # GPU (default)
#   docker build --build-arg TF_FLAVOUR=cpu -t ghcr.io/alexnet-kfp/alexnet-kfp:0.1.0 .
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG TF_FLAVOUR=gpu
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/home/alexnet \
    MPLCONFIGDIR=/tmp/matplotlib \
    KERAS_HOME=/tmp/keras \
    TF_CPP_MIN_LOG_LEVEL=2

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin alexnet

WORKDIR /opt/alexnet-kfp
# Dependencies first, so code changes reuse this layer: the pinned requirements of the extras this
# image needs, read from pyproject.toml (the one place versions are pinned).
COPY pyproject.toml ./
# DL3013 (pin versions in pip): every version is pinned in pyproject.toml, installed here from it.
# hadolint ignore=DL3013
RUN python -c "import sys, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + [r for e in sys.argv[1].split(',') for r in p['optional-dependencies'][e]]))" \
        "train,tensorflow-${TF_FLAVOUR},evaluate,export,predict,pipeline,serve" > /tmp/requirements.txt \
    && python -m pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt
COPY README.md ./
COPY alexnet_kfp ./alexnet_kfp
COPY components ./components
COPY pipeline ./pipeline
RUN python -m pip install --no-deps . && rm -rf build ./*.egg-info

USER 1000
WORKDIR /home/alexnet
# No ENTRYPOINT: Kubeflow and kfp.local's DockerRunner pass the component command as the command.
CMD ["alexnet-kfp", "--help"]
