"""bench/svgplot.py — the few plots REPORT.md needs, drawn with matplotlib and returned as SVG text.

Three kinds: step CDFs on a log x axis (small multiples), grouped horizontal bars, and
time series. Each function returns the SVG text of one figure, so bench/report.py
writes it where it wants. matplotlib (Debian python3-matplotlib) is installed by
bench/run.sh when missing; the test suite does not need it.

The SVG is reproducible: the same data gives the same bytes (no date in the
metadata, a fixed hash salt for element ids), so a regenerated plot only shows
up in a diff when its data changed.
"""
import io
import math

import matplotlib

matplotlib.use("Agg")  # no display; before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
DASHES = ["-", "--", ":", "-.", "-", (0, (4, 4)), (0, (1, 3)), "-"]

plt.rcParams.update({
    "svg.hashsalt": "schedfuzz-bench",
    "svg.fonttype": "none",  # text stays text (searchable, small)
    "font.family": "DejaVu Sans",
    "font.size": 9,
})


def _fmt(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    return "%g" % v


def _svg(fig):
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def cdf_panels(panels, series_names, title, xlabel, path_note=None, cols=3, pw=330, ph=230):
    """Small multiples of empirical CDFs on a log10 x axis.

    panels: list of (panel_title, {series_name: (values, n_total)}), where values are the
    finite results (found) and n_total counts every run, so misses keep the curve below 1.
    pw, ph: the size of one panel in pixels (at 100 dpi).
    """
    rows = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * pw / 100, rows * ph / 100 + 0.9), squeeze=False,
                             sharex=True, sharey=True)
    allv = [v for _, ser in panels for vals, _ in ser.values() for v in vals if v is not None and v > 0]
    lo = 10 ** math.floor(math.log10(min(allv))) if allv else 1
    hi = 10 ** math.ceil(math.log10(max(allv))) if allv else 10
    if hi <= lo:
        hi = lo * 10
    handles = {}
    for pi in range(rows * cols):
        ax = axes[pi // cols][pi % cols]
        if pi >= len(panels):
            ax.set_visible(False)
            continue
        ptitle, ser = panels[pi]
        ax.set_title(ptitle, fontsize=10, fontweight="bold")
        ax.set_xscale("log")
        ax.set_xlim(lo, hi)
        ax.set_ylim(0, 1.02)
        ax.set_yticks([0, 0.5, 1])
        ax.grid(True, color="#eee")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _fmt(v)))
        ax.set_xlabel(xlabel, fontsize=8)
        for si, name in enumerate(series_names):
            if name not in ser:
                continue
            vals, n = ser[name]
            if n == 0:
                continue
            vals = sorted(max(v, lo) for v in vals if v is not None)
            xs = [lo] + vals + [hi]
            ys = [0] + [(k + 1) / n for k in range(len(vals))] + [len(vals) / n]
            (line,) = ax.step(xs, ys, where="post", color=PALETTE[si % 8], linestyle=DASHES[si % 8], linewidth=1.8)
            handles[name] = line
    names = [n for n in series_names if n in handles]
    fig.legend([handles[n] for n in names], names, loc="upper center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 1.0 - 0.02 / rows))
    fig.suptitle(title, fontsize=12, fontweight="bold", y=1.0 + 0.12 / rows)
    if path_note:
        fig.text(0.01, -0.02, path_note, fontsize=8, color="#666")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.15 / rows))
    return _svg(fig)


def hbars(groups, series_names, title, xlabel, value_fmt="%.0f", w=760):
    """Grouped horizontal bars. groups: list of (group_label, {series: value or None})."""
    n = len(series_names)
    bar = 0.8 / max(n, 1)
    fig, ax = plt.subplots(figsize=(w / 100, 0.9 + len(groups) * (n * 0.22 + 0.2)))
    vmax = max([v for _, g in groups for v in g.values() if v] + [1])
    for gi, (_, g) in enumerate(groups):
        for si, name in enumerate(series_names):
            v = g.get(name)
            if not v:
                continue
            y = gi + (si - (n - 1) / 2) * bar
            ax.barh(y, v, height=bar * 0.9, color=PALETTE[si % 8])
            ax.text(v + vmax * 0.01, y, value_fmt % v, va="center", fontsize=8)
    ax.set_yticks(range(len(groups)))
    ax.set_yticklabels([label for label, _ in groups])
    ax.invert_yaxis()
    ax.set_xlim(0, vmax * 1.15)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.grid(True, axis="x", color="#eee")
    ax.set_axisbelow(True)
    # One legend entry per series, in series order.
    patches = [plt.Rectangle((0, 0), 1, 1, color=PALETTE[i % 8]) for i in range(n)]
    ax.legend(patches, series_names, ncol=2, fontsize=8, frameon=False, loc="upper center",
              bbox_to_anchor=(0.5, -0.12 - 0.02 * n))
    return _svg(fig)


def timeseries(series, title, xlabel, ylabel, w=760, h=340, ymin=0, markers=None):
    """series: list of (name, [(x, y), ...]); markers: list of (name, [(x, y)]) drawn as dots."""
    fig, ax = plt.subplots(figsize=(w / 100, h / 100))
    i = 0
    for name, pts in series:
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=PALETTE[i % 8], linewidth=1.6, label=name)
        i += 1
    for name, pts in markers or []:
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o", markersize=3, color=PALETTE[i % 8], label=name)
        i += 1
    allp = [p for _, pts in series for p in pts] + [p for _, pts in (markers or []) for p in pts]
    ymax = max([p[1] for p in allp] + [1]) * 1.15
    ax.set_ylim(ymin, ymax)
    ax.set_xlim(0, max([p[0] for p in allp] + [1]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=12, fontweight="bold")
    ax.grid(True, color="#eee")
    if allp:
        ax.legend(fontsize=8, frameon=False, loc="lower right")
    return _svg(fig)
