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
# Dependencies first, so code changes reuse this layer: the exact versions of uv.lock (with their
# hashes) for the extras this image needs. The export is the whole closure, so pip installs it with
# --no-deps and resolves nothing: pip's resolver would fetch the newest release for a dependency
# asked with extras (kserve's uvicorn[standard]) and refuse it for having no hash. pip check then
# proves the closure complete.
COPY pyproject.toml uv.lock ./
RUN python -m pip install 'uv==0.13.9' \
    && uv export --frozen --no-emit-project --no-default-groups --format requirements-txt \
        --extra train --extra "tensorflow-${TF_FLAVOUR}" --extra evaluate --extra export \
        --extra predict --extra pipeline --extra serve --extra tracking \
        --output-file /tmp/requirements.txt \
    && python -m pip install --no-deps --require-hashes -r /tmp/requirements.txt \
    && python -m pip check \
    && python -m pip uninstall --yes uv && rm /tmp/requirements.txt
COPY README.md ./
COPY alexnet_kfp ./alexnet_kfp
COPY components ./components
COPY pipeline ./pipeline
RUN python -m pip install --no-deps . && rm -rf build ./*.egg-info

USER 1000
WORKDIR /home/alexnet
# No ENTRYPOINT: Kubeflow and kfp.local's DockerRunner pass the component command as the command.
CMD ["alexnet-kfp", "--help"]
