"""Inside the GPU image (no GPU needed): TensorFlow is a CUDA build, and the CUDA and cuDNN
libraries it was built against are installed and load. Prints what it found; exits 1 otherwise."""

import ctypes
import glob
import os
import sys

import tensorflow as tf

info = tf.sysconfig.get_build_info()
if not info.get("is_cuda_build"):
    sys.exit(f"TensorFlow {tf.__version__} is not a CUDA build: {info}")
cuda, cudnn = info["cuda_version"], info["cudnn_version"]
print(f"TensorFlow {tf.__version__}: CUDA build, CUDA {cuda}, cuDNN {cudnn}")

lib_dirs = sorted(
    {
        os.path.dirname(p)
        for p in glob.glob(
            os.path.join(
                os.path.dirname(os.path.dirname(tf.__file__)), "nvidia", "*", "lib", "*.so*"
            )
        )
    }
)
# The libraries TensorFlow's GPU runtime opens (stream executor, cuBLAS, cuFFT, cuSPARSE, cuSOLVER,
# cuDNN, NCCL), by major version. libcuda.so.1 is the driver: it comes from the node, not the image.
cuda_major, cudnn_major = cuda.split(".")[0], str(cudnn).split(".")[0]
wanted = [
    f"libcudart.so.{cuda_major}",
    f"libcublasLt.so.{cuda_major}",
    f"libcublas.so.{cuda_major}",
    "libcufft.so.11",
    "libcusparse.so.12",
    "libcusolver.so.11",
    f"libcudnn.so.{cudnn_major}",
    "libnccl.so.2",
]
missing = []
for name in wanted:
    found = [os.path.join(d, name) for d in lib_dirs if os.path.exists(os.path.join(d, name))]
    if not found:
        missing.append(name)
        continue
    ctypes.CDLL(found[0], mode=ctypes.RTLD_GLOBAL)
    print(f"loaded {found[0]}")
if missing:
    sys.exit(f"missing from the image: {', '.join(missing)} (looked in {lib_dirs})")
print(f"all {len(wanted)} CUDA/cuDNN libraries load")
