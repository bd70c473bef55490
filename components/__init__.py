"""The Kubeflow components (installed as alexnet_kfp.components): one file per step, each a thin
typed `@dsl.component` whose body imports the step's plain function from the installed package.

They are Lightweight Python components on the project image (`install_kfp_package=False`: the image
already has kfp), so the same code runs in a cluster, under kfp.local's SubprocessRunner and under
its DockerRunner. Set ALEXNET_KFP_IMAGE at compile time to use your own registry.
"""

import os

from kfp import dsl

from alexnet_kfp import __version__

IMAGE = os.environ.get("ALEXNET_KFP_IMAGE", f"ghcr.io/alexnet-kfp/alexnet-kfp:{__version__}")


def component(func):
    """@dsl.component on the project image, without installing kfp at run time."""
    return dsl.component(func, base_image=IMAGE, install_kfp_package=False)
