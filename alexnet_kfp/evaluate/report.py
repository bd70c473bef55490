"""report.html: one self-contained page (pictures embedded as data: URIs, inline CSS, no external
reference), so it opens offline and inside the Kubeflow UI's HTML viewer. The evaluate step writes
it with the gate's decision; the verify step writes the run's report, the same page with the ONNX
models' results added (report_onnx.py)."""

import base64
import html
from pathlib import Path

from alexnet_kfp.evaluate.report_onnx import onnx_section
from alexnet_kfp.evaluate.report_sweep import sweep_section
from alexnet_kfp.records import MetricsRecord, ParityRecord

REPORT = "report.html"
# The pictures the evaluate step draws into its directory, by caption, in the report's order.
PICTURES = {
    "Training curves": "training_curves.png",
    "Confusion matrix": "confusion_matrix.png",
    "Confusion matrix, normalised": "confusion_matrix_normalized.png",
    "Most confident mistakes": "confident_mistakes.png",
}

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
  max-width:1100px;color:#222}
h1{margin-bottom:.2rem} .sub{color:#666;margin-top:0}
.gate{padding:1rem 1.2rem;border-radius:8px;font-size:1.1rem;margin:1rem 0}
.pass{background:#e6f4ea;border:1px solid #34a853}
.fail{background:#fce8e6;border:1px solid #d93025}
.trial{background:#fef7e0;border:1px solid #f9ab00}
.numbers{display:flex;gap:2rem;margin:1rem 0} .numbers div{font-size:.9rem;color:#555}
.numbers b{display:block;font-size:1.6rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}
th,td{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
img{max-width:100%;border:1px solid #eee;margin:.5rem 0}
"""


def _embedded(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _which_run(metrics: MetricsRecord) -> str:
    """'cifar network, 8 epochs (best 7) on 35,000 training images; 10,000 test images; ...'."""
    run = metrics.run
    trained = f"{html.escape(run.variant)} network"
    if run.epochs:
        plural = "s" if run.epochs != 1 else ""
        trained += f", {run.epochs} epoch{plural} (best: {run.best_epoch})"
    if run.train_images:
        trained += f" on {run.train_images:,} training images"
    return (
        f"{trained}; {metrics.test_images:,} test images; evaluated "
        f"{html.escape(run.evaluated)}; model sha256 {html.escape(metrics.model.sha256[:16])}..."
    )


def _trial_note(metrics: MetricsRecord) -> str:
    """A sample-trained model is a trial, whatever its gate said."""
    limit = metrics.run.limit_per_class
    if not limit:
        return ""
    although = ", although its gate passed" if metrics.gate.passed else ""
    return (
        f'<div class="gate trial"><b>A trial run, not a model to ship:</b> trained on a sample of '
        f"{limit} images per class{although}. Train on the whole data set for a model to use.</div>"
    )


def _folders_read(metrics: MetricsRecord) -> str:
    """What each class folder held, for your own images: read, duplicates, skipped and why."""
    if metrics.images is None:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{c.read}</td><td>{c.duplicates}</td>"
        f"<td>{c.skipped}</td><td>{html.escape('; '.join(c.reasons))}</td></tr>"
        for name, c in metrics.images.items()
    )
    return (
        "<h2>The class folders</h2><table><tr><th>class</th><th>images read</th>"
        f"<th>duplicates kept once</th><th>files skipped</th><th>why</th></tr>{rows}</table>"
    )


def pictures_in(folder: Path) -> dict[str, Path]:
    """{caption: png path} of the PICTURES the evaluate step drew into `folder`."""
    return {
        caption: folder / name for caption, name in PICTURES.items() if (folder / name).is_file()
    }


def write_run_report(
    metrics: MetricsRecord,
    evaluation_dir: Path,
    parity: ParityRecord,
    models: tuple[Path, Path | None],
    path: Path,
) -> None:
    """The run's report: the evaluation's page (its metrics.json, read by the caller, and the
    pictures in its directory) with the ONNX models' section; `models`: the float32 and int8 (or
    None) files verified."""
    float_model, int8_model = models
    sizes = float_model.stat().st_size, int8_model.stat().st_size if int8_model else None
    write_report(metrics, pictures_in(evaluation_dir), path, onnx_section(parity, *sizes))


def write_report(
    metrics: MetricsRecord, pictures: dict[str, Path], path: Path, onnx: str = ""
) -> None:
    """`pictures`: {caption: png path}, shown in order; `onnx`: the ONNX section, if verified."""
    gate = metrics.gate
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{c.precision:.3f}</td><td>{c.recall:.3f}</td>"
        f"<td>{c.f1:.3f}</td><td>{c.support}</td></tr>"
        for name, c in metrics.per_class.items()
    )
    figures = "".join(
        f"<h2>{html.escape(caption)}</h2>{_embedded(png, caption)}"
        for caption, png in pictures.items()
    )
    data = (
        "CIFAR-10" if metrics.images is None else f"your images ({len(metrics.per_class)} classes)"
    )
    baseline = "none" if gate.baseline_accuracy is None else f"{gate.baseline_accuracy:.4f}"
    style, verdict = ("pass", "passed") if gate.passed else ("fail", "failed")
    title = "evaluation and the ONNX models" if onnx else "evaluation"
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AlexNet on {data}: {title}</title>
<style>{_CSS}</style></head>
<body>
<h1>AlexNet on {data}: {title}</h1>
<p class="sub">{_which_run(metrics)}</p>
{_trial_note(metrics)}
<div class="gate {style}"><b>Gate {verdict}:</b>
{html.escape(gate.reason)}</div>
<div class="numbers">
<div><b>{metrics.accuracy:.4f}</b>test accuracy</div>
<div><b>{metrics.macro_f1:.4f}</b>macro F1</div>
<div><b>{gate.min_accuracy:.3f}</b>min_accuracy</div>
<div><b>{baseline}</b>baseline accuracy</div>
</div>
<h2>Per class</h2>
<table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>{rows}</table>
{_folders_read(metrics)}{sweep_section(metrics.sweep)}{onnx}{figures}
</body></html>
"""
    path.write_text(page, encoding="utf-8")
