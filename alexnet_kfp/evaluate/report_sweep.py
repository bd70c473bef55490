"""The report's sweep section: how a sweep chose the model on the page, as a table of every trial
(what it set, the rung it reached, its best validation accuracy, why it stopped or failed), the
winner named. From the sweep.json the evaluate step found beside the model."""

import html
import json

from alexnet_kfp.records import TRAINED, SweepRecord


def sweep_section(sweep: SweepRecord | None) -> str:
    """The section's HTML (empty for a model that no sweep chose)."""
    if sweep is None:
        return ""
    varied = list(dict.fromkeys(key for t in sweep.trials for key in t.given))
    halving = sweep.halving
    head = "".join(f"<th>{html.escape(key)}</th>" for key in ["trial", *varied])
    head += "<th>rung reached</th>" if halving else ""
    head += "<th>best val accuracy</th><th>epochs</th><th>outcome</th>"
    rows = []
    for t in sweep.trials:
        chosen = t.index == sweep.winner
        cells = [f"<b>{t.index} (chosen)</b>" if chosen else str(t.index)]
        cells += [html.escape(json.dumps(t.settings.get(key))) for key in varied]
        if halving:
            cells.append(f"{t.rung} of {halving.rungs}" if t.rung else "")
        accuracy = "" if t.best_val_accuracy is None else f"{t.best_val_accuracy:.4f}"
        outcome = "trained to the full budget" if t.status == TRAINED else f"{t.status}: {t.reason}"
        cells += [accuracy, str(t.epochs_run or ""), html.escape(outcome)]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    how = (
        f"successive halving, {halving.rungs} rungs each keeping the best 1/{halving.eta}; "
        if halving
        else ""
    )
    trained = sum(t.status == TRAINED for t in sweep.trials)
    return (
        f"<h2>The sweep: trial {sweep.winner} chosen of {len(sweep.trials)}</h2>"
        f"<p>{html.escape(how)}{trained} trained to the full budget; chosen by "
        f"{html.escape(sweep.rule)}. No trial and no choice saw the test split.</p>"
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
    )
