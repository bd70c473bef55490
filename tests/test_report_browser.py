"""The report as a person sees it: drawn by a real browser (headless Chromium) inside a sandboxed
iframe, as the Kubeflow UI shows an HTML artifact (kubeflow/pipelines frontend
src/components/viewers/HTMLViewer.tsx: the page as `srcdoc` of an iframe with
sandbox='allow-scripts'). Chromium is Debian's `chromium` package (.ci/run installs it)."""

import html
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from alexnet_kfp.evaluate.evaluate import evaluate
from alexnet_kfp.train.config import TrainConfig
from alexnet_kfp.train.fit import train

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="needs Chromium: apt-get install chromium")
WIDTH, HEIGHT = 1200, 2400


def _chromium(url: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            *flags,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _console_in_the_kubeflow_ui(report: str, tmp_path: Path) -> list[str]:
    """What the browser's console says while `report` loads in a sandboxed iframe."""
    page = tmp_path / "ui.html"
    page.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><iframe sandbox="allow-scripts" '
        f'style="width:{WIDTH}px;height:{HEIGHT}px;border:0" srcdoc="{html.escape(report)}">'
        "</iframe></body></html>"
    )
    loaded = _chromium(
        page.as_uri(),
        tmp_path,
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
    )
    assert loaded.returncode == 0 and "<iframe" in loaded.stdout, loaded.stderr
    return [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]


def _screenshot(report: str, tmp_path: Path) -> np.ndarray:
    """The report drawn by the browser, grey levels, the scrollbar cut off."""
    page, shot = tmp_path / "report.html", tmp_path / "shot.png"
    page.write_text(report)
    drawn = _chromium(page.as_uri(), tmp_path, "--hide-scrollbars", f"--screenshot={shot}")
    assert shot.is_file(), drawn.stderr
    return np.asarray(Image.open(shot).convert("L"))[:, : WIDTH - 40]


@pytest.fixture(scope="module")
def trial_report(tiny_dataset, tmp_path_factory) -> str:
    """The report of a 1-epoch model of a 20-image-per-class sample, its gate passed."""
    work = tmp_path_factory.mktemp("trial")
    train(
        tiny_dataset, work / "model", TrainConfig(variant="article", epochs=1, precision="float32")
    )
    evaluate(tiny_dataset, work / "model", work / "evaluation", min_accuracy=0.0)
    return (work / "evaluation" / "report.html").read_text()


@pytest.fixture(scope="module")
def run_report(exported, trained, small_dataset, evaluation, tmp_path_factory) -> str:
    """The run's report, as the verify step writes it: the evaluation with the ONNX results."""
    from alexnet_kfp.export.parity import verify

    out = tmp_path_factory.mktemp("verified") / "parity"
    verify(small_dataset, trained[0], exported, out_dir=out, evaluation_dir=evaluation[0])
    return (out / "report.html").read_text()


@pytest.fixture(params=["evaluation", "run"])
def report(request) -> str:
    """Each page the Kubeflow UI shows: evaluate's (a trial's) and the run's, from verify."""
    return request.getfixturevalue(
        "trial_report" if request.param == "evaluation" else "run_report"
    )


@pytest.mark.integration
def test_the_report_loads_in_the_kubeflow_ui_without_console_errors(report, tmp_path):
    assert _console_in_the_kubeflow_ui(report, tmp_path) == []


@pytest.mark.unit
def test_a_broken_page_shows_in_the_console(tmp_path):
    # the check above can fail: a page whose script throws is caught
    console = _console_in_the_kubeflow_ui("<script>undefined_name()</script>", tmp_path)
    assert any("undefined_name" in line for line in console), console


@pytest.mark.integration
def test_the_report_draws_its_text_and_pictures(report, tmp_path):
    ink = _screenshot(report, tmp_path) < 200  # text, tables and plots on the white page
    assert ink[:600].mean() > 0.02 and ink[600:].mean() > 0.02, (ink[:600].mean(), ink[600:].mean())
    blank = _screenshot("<!DOCTYPE html><html><body></body></html>", tmp_path) < 200
    assert blank.mean() == 0  # the measure sees a page with nothing on it as empty


@pytest.mark.integration
def test_the_header_says_which_run_and_that_a_trial_is_not_to_ship(trial_report):
    header = trial_report.split('<p class="sub">', 1)[1].split("</p>", 1)[0]
    assert "article network, 1 epoch (best: 1) on 140 training images" in header
    assert "200 test images; evaluated 20" in header
    assert (
        "A trial run, not a model to ship" in trial_report
        and "although its gate passed" in trial_report
    )


@pytest.mark.integration
def test_the_runs_report_shows_the_onnx_section_in_the_browser(run_report, tmp_path):
    # what the browser lays out, not only what the file holds: the section's text is drawn
    page = tmp_path / "report.html"
    page.write_text(run_report)
    drawn = _chromium(page.as_uri(), tmp_path, "--dump-dom")
    assert drawn.returncode == 0, drawn.stderr
    text = re.sub(r"<[^>]+>", " ", drawn.stdout)
    for words in ("The exported ONNX models", "ONNX models verified", "test images checked",
                  "top-1 agreement with float32", "int8", "Gate passed"):  # fmt: skip
        assert words in text, words
