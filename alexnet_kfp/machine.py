"""This machine's CPU as benchmarks and artifacts report it: its name, core count and the
instruction sets that decide float32, bf16 and int8 speed. Free of TensorFlow."""

import os
import platform
from pathlib import Path

# The flags (Linux /proc/cpuinfo names) that decide how fast int8 and bf16 run.
INT8_FLAGS = ("avx2", "avx512_vnni", "avx_vnni", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo_field(name: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(name):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_flags() -> set[str]:
    return set((_cpuinfo_field("flags") or "").split())


def cpu_name() -> str:
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def describe_cpu() -> str:
    """One line, e.g. "AMD EPYC, 2 cores; int8: avx2 avx512_vnni; bf16: avx512_bf16"."""
    flags = cpu_flags()

    def present(names):
        return " ".join(n for n in names if n in flags) or "none"

    return (
        f"{cpu_name()}, {os.cpu_count()} cores; int8: {present(INT8_FLAGS)}; bf16: "
        f"{present(BF16_FLAGS)}"
    )
