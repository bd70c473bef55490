"""The final-decay replay table of docs/training.md is what `bench/plateau_replay.py` prints for the
recorded histories of bench/histories/: the training's own schedule callbacks, replayed on real
runs' validation accuracy, decide every cell."""

import subprocess
import sys

import pytest

from .real_data import REPO

# each recorded history, and the row that shows it in the docs
DOCS_ROWS = {
    "article-seed7-plateau-only": "`article` seed 7, earlier code",
    "cifar-seed0-plateau-only": "`cifar` seed 0",
    "article-seed7-final-decay": "`article` seed 7, current code",
    "article-seed3-final-decay": "`article` seed 3, current code",
    "article-seed4-final-decay": "`article` seed 4, current code",
    "article-seed0-final-decay": "`article` seed 0, current code",
    "article-seed1-final-decay": "`article` seed 1, current code",
    "article-seed2-final-decay": "`article` seed 2, current code",
    "cifar-seed0-e8-final-decay": "`cifar` seed 0, `make run`'s budget",
}


def _rows(text: str) -> dict[str, list[str]]:
    """The rows of the markdown tables in `text`, by their first cell."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


@pytest.mark.unit
def test_every_recorded_history_has_its_row_in_the_docs():
    histories = {p.stem for p in (REPO / "bench" / "histories").glob("*.json")}
    assert histories == set(DOCS_ROWS)


@pytest.mark.integration  # the replay runs Keras's callbacks: TensorFlow's start-up
def test_the_docs_replay_table_is_what_the_replay_prints():
    histories = sorted((REPO / "bench" / "histories").glob("*.json"))
    printed = subprocess.run(
        [sys.executable, "bench/plateau_replay.py", *map(str, histories)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    replayed = _rows(printed)
    documented = _rows((REPO / "docs" / "training.md").read_text())
    header = replayed.pop("run (budget)")
    assert documented["run (budget)"] == header  # the same rules, in the same order
    for history, row in DOCS_ROWS.items():
        ((name, cells),) = [(k, v) for k, v in replayed.items() if k.startswith(f"{history} (")]
        budget = name.removeprefix(history)
        docs_cells = documented[f"{row}{budget}"]
        recorded, *rules = cells
        # the recorded decay's epoch, then every rule's cell as printed
        assert docs_cells[0].split()[0] == recorded and docs_cells[1:] == rules, history
