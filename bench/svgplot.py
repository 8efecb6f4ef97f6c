"""bench/svgplot.py — the few plots REPORT.md needs, written as plain SVG (no matplotlib).

Three kinds: step CDFs on a log x axis (small multiples), grouped horizontal bars, and
time series. Each function returns the SVG text of one figure.
"""
import math
from xml.sax.saxutils import escape

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
DASHES = ["", "6,3", "2,2", "8,3,2,3", "", "4,4", "1,3", ""]
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def _svg(w, h, body):
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" %s>\n'
            '<rect width="100%%" height="100%%" fill="white"/>\n%s\n</svg>\n' % (w, h, w, h, FONT, "\n".join(body)))


def _text(x, y, s, size=11, anchor="start", weight="normal", color="#222", rotate=None):
    tr = ' transform="rotate(%d %.1f %.1f)"' % (rotate, x, y) if rotate else ""
    return '<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" font-weight="%s" fill="%s"%s>%s</text>' % (
        x, y, size, anchor, weight, color, tr, escape(str(s)))


def _fmt(v):
    if v >= 1e6:
        return "%gM" % (v / 1e6)
    if v >= 1e3:
        return "%gk" % (v / 1e3)
    if v >= 1:
        return "%g" % v
    return "%g" % v


def cdf_panels(panels, series_names, title, xlabel, path_note=None, cols=3, pw=330, ph=230):
    """Small multiples of empirical CDFs on a log10 x axis.

    panels: list of (panel_title, {series_name: (values, n_total)}), where values are the
    finite results (found) and n_total counts every run, so misses keep the curve below 1.
    """
    rows = math.ceil(len(panels) / cols)
    lcols = 3
    legend_h = 22 * math.ceil(len(series_names) / lcols) + 10
    W, H = cols * pw + 20, rows * ph + 50 + legend_h
    body = [_text(W / 2, 22, title, 15, "middle", "bold")]
    # Legend.
    for i, name in enumerate(series_names):
        lx = 20 + (i % lcols) * ((W - 40) / lcols)
        ly = 42 + 22 * (i // lcols)
        body.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5" stroke-dasharray="%s"/>'
                    % (lx, ly - 4, lx + 28, ly - 4, PALETTE[i % 8], DASHES[i % 8]))
        body.append(_text(lx + 34, ly, name, 12))
    top0 = 40 + legend_h
    # Common x range over every panel.
    allv = [v for _, ser in panels for vals, _ in ser.values() for v in vals if v > 0]
    lo = 10 ** math.floor(math.log10(min(allv))) if allv else 1
    hi = 10 ** math.ceil(math.log10(max(allv))) if allv else 10
    if hi <= lo:
        hi = lo * 10
    for pi, (ptitle, ser) in enumerate(panels):
        ox = 10 + (pi % cols) * pw
        oy = top0 + (pi // cols) * ph
        x0, x1, y0, y1 = ox + 48, ox + pw - 12, oy + ph - 38, oy + 22
        body.append(_text((x0 + x1) / 2, oy + 14, ptitle, 12, "middle", "bold"))
        body.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>'
                    % (x0, y1, x1 - x0, y0 - y1))

        def X(v):
            v = max(v, lo)
            return x0 + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (x1 - x0)

        def Y(f):
            return y0 - f * (y0 - y1)

        d = math.floor(math.log10(lo))
        while 10 ** d <= hi * 1.0001:
            xv = X(10 ** d)
            body.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>' % (xv, y0, xv, y1))
            body.append(_text(xv, y0 + 13, _fmt(10 ** d), 9, "middle"))
            d += 1
        for f in (0, 0.5, 1):
            body.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>' % (x0, Y(f), x1, Y(f)))
            body.append(_text(x0 - 4, Y(f) + 3, "%g" % f, 9, "end"))
        body.append(_text((x0 + x1) / 2, y0 + 27, xlabel, 10, "middle"))
        for si, name in enumerate(series_names):
            if name not in ser:
                continue
            vals, n = ser[name]
            if n == 0:
                continue
            vals = sorted(v for v in vals if v is not None)
            pts = [(X(lo), Y(0))]
            for k, v in enumerate(vals):
                pts.append((X(v), Y(k / n)))
                pts.append((X(v), Y((k + 1) / n)))
            pts.append((x1, Y(len(vals) / n)))
            body.append('<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>' % (
                PALETTE[si % 8], DASHES[si % 8], " ".join("%.1f,%.1f" % p for p in pts)))
    if path_note:
        body.append(_text(10, H - 6, path_note, 9, color="#666"))
    return _svg(W, H, body)


def hbars(groups, series_names, title, xlabel, value_fmt="%.0f", w=760):
    """Grouped horizontal bars. groups: list of (group_label, {series: value or None})."""
    bar_h, gap = 18, 14
    n_series = len(series_names)
    H = 60 + len(groups) * (n_series * bar_h + gap) + 30
    x0, x1 = 190, w - 90
    vmax = max([v for _, g in groups for v in g.values() if v] + [1])
    legend_rows = math.ceil(n_series / 2)
    H += 18 * (legend_rows - 1)
    body = [_text(w / 2, 22, title, 15, "middle", "bold")]
    for i, name in enumerate(series_names):
        lx, ly = 40 + (i % 2) * 330, 32 + 18 * (i // 2)
        body.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (lx, ly, PALETTE[i % 8]))
        body.append(_text(lx + 16, ly + 11, name, 11))
    y = 40 + 18 * legend_rows
    for label, g in groups:
        body.append(_text(x0 - 8, y + n_series * bar_h / 2 + 4, label, 12, "end"))
        for i, name in enumerate(series_names):
            v = g.get(name)
            if v:
                bw = v / vmax * (x1 - x0)
                body.append('<rect x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"/>' % (
                    x0, y, bw, bar_h - 3, PALETTE[i % 8]))
                body.append(_text(x0 + bw + 4, y + bar_h - 6, value_fmt % v, 10))
            y += bar_h
        y += gap
    body.append('<line x1="%d" y1="%d" x2="%d" y2="%.1f" stroke="#444"/>' % (x0, 37 + 18 * legend_rows, x0, y - gap + 2))
    body.append(_text((x0 + x1) / 2, y + 14, xlabel, 11, "middle"))
    return _svg(w, H, body)


def timeseries(series, title, xlabel, ylabel, w=760, h=340, ymin=0, markers=None):
    """series: list of (name, [(x, y), ...]); markers: list of (name, [(x, y)]) drawn as dots."""
    n_legend = len(series) + len(markers or [])
    h += 18 * (n_legend - 1)
    x0, x1, y0, y1 = 70, w - 20, h - 50, 42 + 18 * n_legend
    allp = [p for _, pts in series for p in pts] + [p for _, pts in (markers or []) for p in pts]
    xmax = max([p[0] for p in allp] + [1])
    ymax = max([p[1] for p in allp] + [1]) * 1.15
    body = [_text(w / 2, 22, title, 15, "middle", "bold")]

    def X(v):
        return x0 + v / xmax * (x1 - x0)

    def Y(v):
        return y0 - (v - ymin) / (ymax - ymin) * (y0 - y1)

    body.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#999"/>' % (x0, y1, x1 - x0, y0 - y1))
    step = _nice(ymax - ymin)
    v = ymin
    while v <= ymax:
        body.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>' % (x0, Y(v), x1, Y(v)))
        body.append(_text(x0 - 4, Y(v) + 3, "%g" % v, 10, "end"))
        v += step
    xs = _nice(xmax)
    v = 0
    while v <= xmax:
        body.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>' % (X(v), y0, X(v), y1))
        body.append(_text(X(v), y0 + 14, "%g" % v, 10, "middle"))
        v += xs
    body.append(_text((x0 + x1) / 2, y0 + 32, xlabel, 11, "middle"))
    body.append(_text(16, (y0 + y1) / 2, ylabel, 11, "middle", rotate=-90))
    legend = []
    for i, (name, pts) in enumerate(series):
        if pts:
            body.append('<polyline fill="none" stroke="%s" stroke-width="2" stroke-dasharray="%s" points="%s"/>' % (
                PALETTE[i % 8], DASHES[i % 8], " ".join("%.1f,%.1f" % (X(a), Y(b)) for a, b in pts)))
        legend.append((name, PALETTE[i % 8], "line"))
    for j, (name, pts) in enumerate(markers or []):
        c = PALETTE[(len(series) + j) % 8]
        for a, b in pts:
            body.append('<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"/>' % (X(a), Y(b), c))
        legend.append((name, c, "dot"))
    for i, (name, c, kind) in enumerate(legend):
        lx, ly = x0 + 10, 44 + 18 * i
        if kind == "line":
            body.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>' % (lx, ly - 4, lx + 24, ly - 4, c))
        else:
            body.append('<circle cx="%d" cy="%d" r="3" fill="%s"/>' % (lx + 12, ly - 4, c))
        body.append(_text(lx + 30, ly, name, 11))
    return _svg(w, h, body)


def _nice(span):
    if span <= 0:
        return 1
    raw = span / 6
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag
