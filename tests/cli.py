"""Running `alexnet-kfp` as a user does: a real process of this interpreter, output captured."""

import subprocess
import sys


def cli_args(*args: object) -> list[str]:
    """The command line of `alexnet-kfp ARGS...` (paths and numbers as text)."""
    return [sys.executable, "-m", "alexnet_kfp", *map(str, args)]


def run_cli(*args: object, timeout: float = 300, **settings) -> subprocess.CompletedProcess:
    """Run `alexnet-kfp ARGS...` to the end; `settings` go to subprocess.run (env=..., ...)."""
    return subprocess.run(
        cli_args(*args), capture_output=True, text=True, timeout=timeout, **settings
    )


def run_cli_without_tensorflow(*args: object, **settings) -> subprocess.CompletedProcess:
    """Run `alexnet-kfp ARGS...` in a process that fails unless TensorFlow, Keras and tf2onnx stay
    unimported to its end: proof that a light path stayed light, or that a refusal came first."""
    script = (
        "import sys\n"
        "from alexnet_kfp.cli import main\n"
        f"code = main({[str(a) for a in args]!r})\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'tf2onnx') if m in sys.modules]\n"
        "assert not heavy, f'imported {heavy}'\n"
        "sys.exit(code)\n"
    )
    command = [sys.executable, "-c", script]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, **settings)


def run_train(
    dataset: object, out: object, *flags: object, **settings
) -> subprocess.CompletedProcess:
    """`alexnet-kfp train` of the article network (fast on a CPU; the default is a GPU node's
    cifar network) on `dataset` into `out`, with `flags`."""
    return run_cli(
        "train", "--variant", "article", "--data", dataset, "--out", out, *flags, **settings
    )
