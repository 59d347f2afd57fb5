"""The evaluation report: ROC and DET curves, distance histograms and the worst-matching identities,
as PNG files, one self-contained report.html (images embedded) and metrics.json."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siamcli.core.thresholds import Roc, roc
from siamcli.errors import SiamcliError
from siamcli.evaluation import WORST_SHOWN, Metrics, ScoredPairs
from siamcli.files import json_text, write_atomic


@dataclass
class ModelMetrics:
    """One model's metrics on the data, and the pairs they were scored from: what eval prints, what its
    report draws, and its JSON."""

    label: str  # the model's path, as given
    metrics: Metrics
    scored: ScoredPairs

    def to_json(self, data: str) -> dict[str, Any]:
        """One JSON object, as `eval --json` prints it and metrics.json lists it."""
        return {"model": self.label, "data": data, **self.metrics.to_json()}


def _literal(text: str) -> str:
    """A path as matplotlib should show it: a `$` would start its mathtext (and fail on `$\\alpha_{$`)."""
    return text.replace("$", r"\$")


def _floor(values: Any, n: int) -> Any:
    """Zero rates have no place on a log axis: draw them at half of one pair in n."""
    return np.maximum(values, 0.5 / n)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _operating_points(axis: Any, evaluated: ModelMetrics, colour: str, det: bool) -> None:
    """The EER point and the stored threshold's point on the curve."""
    metrics = evaluated.metrics
    eer, far, frr = metrics.eer, metrics.at_threshold.far, metrics.at_threshold.frr
    n_imp, n_gen = metrics.impostor_pairs, metrics.genuine_pairs
    x_eer, x_thr = _floor(eer, n_imp), _floor(far, n_imp)
    y_eer = _floor(eer, n_gen) if det else 1 - eer
    y_thr = _floor(frr, n_gen) if det else 1 - frr
    axis.plot([x_eer], [y_eer], "o", color=colour, markersize=7, label=f"EER {eer:.2%}")
    axis.plot(
        [x_thr],
        [y_thr],
        "s",
        color=colour,
        markersize=7,
        markerfacecolor="none",
        label=f"stored threshold: FAR {far:.2%}, FRR {frr:.2%}",
    )


def drawn_points(curve: Roc, most: int = 4000) -> Roc:
    """About `most` points of a curve that may hold a million: evenly spaced in log FAR (the low-FAR
    end keeps its detail) and in FRR, with both ends."""
    if curve.far.size <= most:
        return curve
    lowest = curve.far[curve.far > 0].min()
    by_far = np.searchsorted(curve.far, np.geomspace(lowest, 1.0, most // 2))
    by_frr = np.searchsorted(-curve.frr, -np.linspace(1.0, 0.0, most // 2))
    keep = np.unique(np.concatenate([[0, curve.far.size - 1], by_far, by_frr]).clip(0, curve.far.size - 1))
    return Roc(curve.thresholds[keep], curve.far[keep], curve.frr[keep])


def curves(evaluated: list[ModelMetrics], det: bool) -> bytes:
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6.4, 5.2))
    for i, item in enumerate(evaluated):
        colour = f"C{i}"
        curve = drawn_points(roc(item.scored.trials))
        far = _floor(curve.far, item.metrics.impostor_pairs)
        if det:
            axis.loglog(far, _floor(curve.frr, item.metrics.genuine_pairs), color=colour, label=_literal(item.label))
        else:
            axis.semilogx(
                far, 1 - curve.frr, color=colour, label=f"{_literal(item.label)} (AUC {item.metrics.roc_auc:.3f})"
            )
        _operating_points(axis, item, colour, det)
    if det:
        axis.plot([1e-4, 1], [1e-4, 1], ":", color="grey", linewidth=0.8)
        axis.set(xlabel="false-accept rate", ylabel="false-reject rate", title="DET (lower left is better)")
    else:
        axis.set(xlabel="false-accept rate", ylabel="true-accept rate", title="ROC", ylim=(0, 1.01))
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=7, loc="upper right" if det else "lower right")
    try:
        return _png(figure)
    finally:
        plt.close(figure)


def histograms(evaluated: list[ModelMetrics]) -> bytes:
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(evaluated), 1, figsize=(6.4, 2.8 * len(evaluated)), squeeze=False)
    for axis, item in zip(axes[:, 0], evaluated):
        genuine, impostor = item.scored.trials.genuine, item.scored.trials.impostor
        bins = np.linspace(min(genuine[0], impostor[0]), max(genuine[-1], impostor[-1]), 60)
        axis.hist(impostor, bins=bins, density=True, alpha=0.55, color="C3", label=f"impostor ({impostor.size})")
        axis.hist(genuine, bins=bins, density=True, alpha=0.55, color="C2", label=f"genuine ({genuine.size})")
        threshold = item.metrics.threshold
        axis.axvline(
            threshold.value,
            color="black",
            linestyle="--",
            label=f"stored threshold {threshold.value:.3f} ({threshold.operating_point})",
        )
        axis.set(xlabel="distance (smaller is more alike)", ylabel="density", title=_literal(item.label))
        axis.legend(fontsize=7)
    figure.tight_layout()
    try:
        return _png(figure)
    finally:
        plt.close(figure)


def open_set_curves(evaluated: list[ModelMetrics]) -> bytes | None:
    """DIR against FPIR for each drawn gallery size, and the model's own 1:N operating point on it."""
    import matplotlib.pyplot as plt

    if not any(item.metrics.open_set for item in evaluated):
        return None
    figure, axis = plt.subplots(figsize=(6.4, 5.2))
    styles = ["-", "--", ":", "-."]
    for i, item in enumerate(evaluated):
        for j, rates in enumerate(item.metrics.open_set):
            fpir, detected = zip(*rates.curve)
            name = f"{_literal(item.label)}: {rates.identities} enrolled x {rates.samples_each}"
            axis.semilogx(fpir, detected, styles[j % len(styles)], color=f"C{i}", label=name)
            at = rates.at_operating_point
            if at is not None:
                axis.plot([max(at.fpir, 1e-3)], [at.dir], "s", color=f"C{i}", markerfacecolor="none")
    axis.set(
        xlabel="false-positive identification rate (strangers named)",
        ylabel="detection and identification rate (enrolled named rightly)",
        title="Open-set identification (squares: the model's 1:N threshold)",
        ylim=(0, 1.01),
        xlim=(1e-3, 1),
    )
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=6, loc="lower right")
    try:
        return _png(figure)
    finally:
        plt.close(figure)


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _drawn(metrics: Metrics) -> str:
    sampling = metrics.impostor_sampling
    return "" if sampling is None else f" (drawn from {sampling['in_data']:,}, seed {sampling['seed']})"


def summary_rows(metrics: Metrics) -> list[tuple[str, str]]:
    """The headline figures of one evaluation, as (label, value) rows: shared by the table and the HTML."""
    low, high = metrics.eer_interval
    at, threshold = metrics.at_threshold, metrics.threshold
    rows = [
        ("identities / samples", f"{metrics.identities} / {metrics.samples}"),
        ("genuine / impostor pairs", f"{metrics.genuine_pairs} / {metrics.impostor_pairs}{_drawn(metrics)}"),
        ("ROC AUC", f"{metrics.roc_auc:.4f}"),
        ("EER", f"{metrics.eer:.2%} [{low:.2%}, {high:.2%}] at distance {metrics.eer_threshold:.4f}"),
        (f"minDCF (P_target {metrics.min_dcf.p_target:g})", f"{metrics.min_dcf.value:.4f}"),
    ]
    for far, tar in metrics.tar_at_far.items():
        needed = round(1 / float(far))
        shown = _percent(tar) if tar is not None else f"n/a (needs {needed} impostor pairs)"
        rows.append((f"TAR at FAR {float(far):g}", shown))
    rows.append(
        (
            f"at stored threshold {threshold.value:.4f} ({threshold.operating_point})",
            f"FAR {at.far:.2%}, FRR {at.frr:.2%}, balanced accuracy {at.balanced_accuracy:.2%}",
        )
    )
    for n_way, accuracy in metrics.one_shot.items():
        low, high = metrics.one_shot_interval[n_way]
        rows.append((f"one-shot {n_way}", f"{accuracy:.2%} [{low:.2%}, {high:.2%}]"))
    for n_way, accuracy in (metrics.one_shot_within_groups or {}).items():
        low, high = (metrics.one_shot_within_groups_interval or {})[n_way]
        rows.append((f"one-shot {n_way} within groups", f"{accuracy:.2%} [{low:.2%}, {high:.2%}]"))
    for rates in metrics.open_set:
        figures = " / ".join(f"{value:.1%}" for value in rates.dir_at_fpir.values())
        targets = "/".join(f"{float(fpir):.0%}" for fpir in rates.dir_at_fpir)
        at = rates.at_operating_point
        if at is not None:
            figures += f"; at the model's 1:N threshold: FPIR {at.fpir:.2%}, DIR {at.dir:.1%}"
        label = f"1:N, {rates.identities} enrolled x {rates.samples_each}: DIR at FPIR {targets}"
        rows.append((label, figures))
    worst = [row for row in metrics.per_identity if row.frr is not None][:3]
    rows.append(("worst identities (FRR)", ", ".join(f"{r.identity} {r.frr:.0%}" for r in worst) or "n/a"))
    return rows


def _html(evaluated: list[ModelMetrics], data: str, images: dict[str, bytes]) -> str:
    e = html.escape
    labels = [item.label for item in evaluated]
    summaries = [summary_rows(item.metrics) for item in evaluated]
    head = "".join(f"<th>{e(label)}</th>" for label in labels)
    body = "".join(
        f"<tr><th>{e(summaries[0][r][0])}</th>" + "".join(f"<td>{e(s[r][1])}</td>" for s in summaries) + "</tr>"
        for r in range(len(summaries[0]))
    )
    figures = "".join(
        f'<figure><img alt="{e(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}"></figure>'
        for name, png in images.items()
    )
    worst = ""
    for item in evaluated:
        rows = "".join(
            f"<tr><td>{e(r.identity)}</td><td>{r.samples}</td><td>{r.genuine_pairs}</td>"
            f"<td>{_percent(r.frr)}</td><td>{_percent(r.far)}</td></tr>"
            for r in item.metrics.per_identity[:WORST_SHOWN]
        )
        worst += (
            f"<h3>{e(item.label)}</h3><table><tr><th>identity</th><th>samples</th><th>genuine pairs</th>"
            f"<th>false-reject rate</th><th>false-accept rate</th></tr>{rows}</table>"
        )
    intervals = evaluated[0].metrics.intervals
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>siamcli evaluation: {e(data)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }} th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; }}
th {{ background: #f4f4f4; text-align: left; }} td {{ text-align: right; }}
figure {{ display: inline-block; margin: 0.5em; }} img {{ max-width: 100%; }}
</style></head><body>
<h1>siamcli evaluation</h1>
<p>Data: <code>{e(data)}</code>. Distances: smaller is more alike; a pair is accepted at or below the
threshold. Intervals in brackets are {intervals.level:.0%} bootstrap intervals over identities
({intervals.rounds} rounds, seed {intervals.seed}).</p>
<table><tr><th></th>{head}</tr>{body}</table>
{figures}
<h2>Worst-matching identities at the stored threshold</h2>
{worst}
</body></html>
"""


def write_report(directory: Path, evaluated: list[ModelMetrics], data: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")  # headless: no display needed, nothing opens a window
    if directory.exists() and not directory.is_dir():
        raise SiamcliError(f"{directory}: exists and is not a folder")
    directory.mkdir(parents=True, exist_ok=True)
    images = {
        "roc.png": curves(evaluated, det=False),
        "det.png": curves(evaluated, det=True),
        "distances.png": histograms(evaluated),
    }
    open_set = open_set_curves(evaluated)
    if open_set is not None:
        images["open_set.png"] = open_set
    written = []
    for name, png in images.items():
        write_atomic(directory / name, png)
        written.append(directory / name)
    document = [item.to_json(data) for item in evaluated]
    write_atomic(directory / "metrics.json", (json_text(document, indent=2) + "\n").encode())
    write_atomic(directory / "report.html", _html(evaluated, data, images).encode())
    return [*written, directory / "metrics.json", directory / "report.html"]
