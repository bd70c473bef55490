"""The run report's ONNX section: what the verify step found (Keras vs onnxruntime, int8 vs
float32) and the two models' sizes, so that the one page a user opens says whether the exported
models can be trusted."""

import html

from alexnet_kfp.records import ParityRecord


def _mib(size: int | None) -> str:
    return "-" if size is None else f"{size / 2**20:.1f} MiB"


def _int8_row(parity: ParityRecord, float_bytes: int, int8_bytes: int | None) -> str:
    if parity.int8 is None or int8_bytes is None:
        return '<tr><td>int8</td><td colspan="4">not exported (export without a Dataset)</td></tr>'
    int8, size = parity.int8, int8_bytes
    ratio = f" ({size / float_bytes:.2f}x)"
    verdict = f"{'passed' if int8.passed else 'failed'}: {html.escape(int8.reason)}"
    return (
        f"<tr><td>int8</td><td>{_mib(size)}{ratio}</td><td>{int8.int8_accuracy:.4f}</td>"
        f"<td>{int8.top1_agreement:.2%}</td><td>{verdict}</td></tr>"
    )


def onnx_section(parity: ParityRecord, float_bytes: int, int8_bytes: int | None) -> str:
    """The HTML of the section: the verdict, parity's figures, and a table of both models (their
    file sizes given)."""
    style, verdict = ("pass", "verified") if parity.verified else ("fail", "not verified")
    float32_accuracy = parity.int8.float32_accuracy if parity.int8 else None
    accuracy = "-" if float32_accuracy is None else f"{float32_accuracy:.4f}"
    return f"""<h2>The exported ONNX models</h2>
<div class="gate {style}"><b>ONNX models {verdict}:</b>
Keras vs onnxruntime {html.escape(parity.reason)}.</div>
<div class="numbers">
<div><b>{parity.max_abs_diff:.2g}</b>max |&Delta;p| (atol {parity.atol:g})</div>
<div><b>{parity.mean_abs_diff:.2g}</b>mean |&Delta;p|</div>
<div><b>{parity.argmax_agreement:.2%}</b>top-1 agreement</div>
<div><b>{parity.images:,}</b>test images checked</div>
</div>
<table><tr><th>model</th><th>size</th><th>test accuracy</th><th>top-1 agreement with float32</th>
<th>verify</th></tr>
<tr><td>float32</td><td>{_mib(float_bytes)}</td><td>{accuracy}</td><td>-</td>
<td>{"passed" if parity.passed else "failed"}</td></tr>
{_int8_row(parity, float_bytes, int8_bytes)}</table>
"""
