"""The annual statistical report as one self-contained HTML file, and the `report` command.

The file makes no request of any kind: the style sheet is inline, the charts are inline SVG
(altair specs rendered by vl-convert, which runs Vega in-process and is refused every data URL),
and there is no script. It prints on A4 with a page break before every section, table headers
repeated on each page and no row split across pages. Every text comes from the catalogues; every
text from the store is escaped.
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

from dashboard import report as R
from dashboard.i18n import Translator
from dashboard.national import WAN
from dashboard import formatting as fmt

EXIT_OK, EXIT_FAILED = 0, 1

FONT = fmt.CHART_FONT  # the page and its charts: Chinese-capable fonts first
CHART_FONT = fmt.CHART_FONT
PRIMARY = fmt.PRIMARY  # the app's theme colour (streamlit_config/config.toml)
LOAD_COLOURS = fmt.LOAD_COLOURS  # the shared colour-blind-safe palette, as on the Utilisation page
CHART_WIDTH = 520
SUMMARY_CARDS = ("instruments", "value", "open_rate", "utilisation_rate", "external_hours", "idle")

CSS = """
:root { --ink: #1d2430; --muted: #5b6675; --line: #d5dbe3; --accent: %(primary)s; --soft: #eef4f7; }
* { box-sizing: border-box; }
html { font-family: %(font)s; color: var(--ink); font-size: 15px; line-height: 1.6; }
html:lang(en) { font-family: "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, %(font)s; }
body { margin: 0 auto; max-width: 960px; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 1.9rem; margin: .2rem 0 .6rem; line-height: 1.3; }
h2 { font-size: 1.35rem; border-bottom: 2px solid var(--accent); padding-bottom: .25rem; margin: 2.2rem 0 1rem; }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .5rem; color: var(--accent); }
p { margin: .4rem 0 .8rem; }
.kicker { color: var(--muted); margin: 0; letter-spacing: .04em; }
.meta { color: var(--muted); font-size: .9rem; }
.notice { border: 1px solid #e0b252; background: #fdf6e3; padding: .6rem .9rem; border-radius: 4px; margin: 1rem 0; }
.cover { padding: 1.2rem 0 .6rem; border-bottom: 1px solid var(--line); }
.toc ul { margin: .4rem 0 0; padding-left: 0; list-style: none; columns: 2; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 10px; margin: 1rem 0 1.2rem; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; background: var(--soft); }
.card .label { font-size: .85rem; color: var(--muted); }
.card .value { font-size: 1.45rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.card .delta { font-size: .8rem; color: var(--muted); }
table { border-collapse: collapse; width: 100%%; margin: .4rem 0 .3rem; font-size: .86rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .3rem; }
th, td { border: 1px solid var(--line); padding: .28rem .45rem; vertical-align: top; }
thead th { background: var(--soft); font-weight: 600; text-align: center; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
.note { font-size: .8rem; color: var(--muted); margin-top: .2rem; }
figure.chart { margin: .6rem 0 .8rem; }
figure.chart svg { max-width: 100%%; height: auto; display: block; }
figure.chart figcaption { font-size: .8rem; color: var(--muted); }
table.breakdown td:first-child { min-width: 7.5em; }
table.kv { width: auto; min-width: 55%%; }
table.kv td:first-child { min-width: 18em; }
table.kv td.num { min-width: 8em; }
.defs td:first-child { min-width: 7.5em; }
.defs td:nth-child(2) { min-width: 16em; }
ol.sources li { margin-bottom: .3rem; }
footer { margin-top: 2.5rem; font-size: .8rem; color: var(--muted); border-top: 1px solid var(--line); padding-top: .5rem; }
@page { size: A4; margin: 16mm 14mm 18mm; }
@media print {
  html { font-size: 10pt; }
  body { max-width: none; padding: 0; }
  section { break-before: page; }
  h2, h3, caption { break-after: avoid; }
  figure.chart, .card, .cards, .notice, .block { break-inside: avoid; }
  table { font-size: .8rem; }
  tr, td, th { break-inside: avoid; }
  thead { display: table-header-group; }
  .toc { display: none; }
  tbody tr:nth-child(even) td, thead th, .card { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
""" % {"font": FONT, "primary": PRIMARY}


# ---- cells -----------------------------------------------------------------------------------


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def _signed(value: float, decimals: int) -> str:
    if round(value, decimals) == 0:
        return f"{0:.{decimals}f}"
    return f"{value:+,.{decimals}f}"


def cell_text(cell: R.Cell, t: Translator) -> str:
    """A typed cell as display text (money in 万元, rates in %, changes signed)."""
    v, kind = cell.value, cell.kind
    if kind == "text":
        return "" if _missing(v) else str(v)
    if _missing(v):
        return fmt.MISSING
    v = float(v)
    if kind in ("count", "hours"):
        return fmt.number(v)
    if kind == "wan":
        return fmt.number(v / WAN, 2)
    if kind == "rate":
        return fmt.percent(v)
    if kind == "pp":
        return t("report.unit.pp_value", value=_signed(v * 100, 1))
    if kind == "rel":
        return f"{_signed(v * 100, 1)}%"
    if kind in ("dcount", "dhours"):
        return _signed(v, 0)
    if kind == "dwan":
        return _signed(v / WAN, 2)
    raise ValueError(f"unknown cell kind {kind!r}")


def table_html(table: R.Table, t: Translator, css_class: str = "", caption: bool = True) -> str:
    """A table with its caption (left out where a heading right above names it) and note."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
    body = []
    for row in table.rows:
        cells = []
        for cell in row:
            cls = ' class="num"' if cell.kind in R.NUMERIC_KINDS else ""
            cells.append(f"<td{cls}>{html.escape(cell_text(cell, t))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    cls = f' class="{css_class}"' if css_class else ""
    cap = f"<caption>{html.escape(table.title)}</caption>" if caption else ""
    return (f'<table{cls} data-table="{table.id}">{cap}'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{note}")


# ---- charts ----------------------------------------------------------------------------------


def svg_of(chart: alt.TopLevelMixin, prefix: str) -> str:
    """An altair chart as inline SVG. vl-convert may fetch nothing (no base URL is allowed); ids in
    the SVG get `prefix` so that several charts can live in one document."""
    import vl_convert as vlc

    spec = chart.configure(font=CHART_FONT).configure_view(stroke=None).to_dict()
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[])
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    svg = re.sub(r"^<\?xml[^>]*>\s*", "", svg)
    return svg.replace("<svg ", f'<svg data-chart="{prefix}" role="img" ', 1)


def bar_chart(labels: list[str], values: list[float], x_title: str, number_format: str,
              colours: list[str] | None = None) -> alt.Chart:
    """Horizontal bars in the given order, each with its value printed after it. A missing value
    (None / NaN, e.g. the utilisation of a group without instruments in service) is not a zero:
    its row is left out rather than drawn as an empty bar."""
    frame = pd.DataFrame({"label": labels, "value": values, "colour": colours or [PRIMARY] * len(labels)})
    frame = frame.loc[np.array([not _missing(v) for v in frame["value"]], dtype=bool)].reset_index(drop=True)
    frame["value"] = frame["value"].astype(float)
    labels = frame["label"].tolist()
    top = max(1.0, float(frame["value"].max() if len(frame) else 0.0) * 1.18)
    base = alt.Chart(frame).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=260, labelFontSize=12)),
        x=alt.X("value:Q", title=x_title, scale=alt.Scale(domain=[0, top], nice=False),
                axis=alt.Axis(format=number_format, tickCount=5, labelFontSize=11, titleFontSize=12)),
    )
    bars = base.mark_bar().encode(color=alt.Color("colour:N", scale=None))
    text = base.mark_text(align="left", dx=3, fontSize=11, color=fmt.INK).encode(
        text=alt.Text("value:Q", format=number_format))
    return (bars + text).properties(width=CHART_WIDTH, height=alt.Step(24))


def region_map(frame: pd.DataFrame, labels: list[str], legend_title: str) -> alt.LayerChart:
    """The three banners coloured by their instrument count (zones rolled up), with names."""
    from dashboard.geo import banner_features

    counts = dict(zip(frame["key"], frame["instruments"]))
    names = dict(zip(frame["key"], labels))
    features, centres = [], []
    for feature in banner_features():
        code = feature["properties"]["code"]
        props = {"code": code, "label": names.get(code, code), "instruments": int(counts.get(code, 0))}
        features.append({"type": "Feature", "geometry": feature["geometry"], "properties": props})
        lon, lat = feature["properties"]["centroid"]
        centres.append({"lon": lon, "lat": lat, "label": f"{props['label']} {props['instruments']}"})
    shapes = alt.Chart(alt.Data(values=features)).mark_geoshape(stroke="white", strokeWidth=1.5).encode(
        color=alt.Color("properties.instruments:Q", title=legend_title, scale=alt.Scale(scheme=fmt.SEQUENTIAL_SCHEME, zero=True),
                        legend=alt.Legend(orient="bottom-left", format="d", tickMinStep=1)))
    text = alt.Chart(pd.DataFrame(centres)).encode(longitude="lon:Q", latitude="lat:Q", text="label:N")
    halo = text.mark_text(fontSize=13, fontWeight="bold", color="white", stroke="white", strokeWidth=4)
    name = text.mark_text(fontSize=13, fontWeight="bold", color=fmt.INK)
    return alt.layer(shapes, halo, name).project(type="mercator").properties(width=CHART_WIDTH, height=360)


def _block(title: str, *parts: str) -> str:
    """A sub-section (heading, chart, table) that print keeps on one page when it fits."""
    return f'<div class="block"><h3>{html.escape(title)}</h3>{"".join(parts)}</div>'


def _figure(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart">{svg}{cap}</figure>'


# ---- the document ----------------------------------------------------------------------------


def _labels(report: R.AnnualReport, bid: str, t: Translator) -> list[str]:
    return [R.label_of(bid, row, t) for _, row in report.breakdowns[bid].iterrows()]


def summary_text(report: R.AnnualReport, t: Translator) -> str:
    c = report.current
    return t(
        "report.summary.text", year=report.year, instruments=fmt.number(c.instruments),
        value=fmt.money(c.value_cny, t), units=fmt.number(c.units), in_service=fmt.number(c.in_service),
        eligible=fmt.number(c.eligible),
        open=fmt.number(c.open_count), open_rate=fmt.percent(c.open_rate), effective=fmt.hours(c.effective_hours, t),
        mean=fmt.hours(c.mean_effective_hours, t), utilisation=fmt.percent(c.utilisation_rate),
        idle=fmt.number(c.idle), saturated=fmt.number(c.saturated), external=fmt.hours(c.external_hours, t),
        external_share=fmt.percent(c.external_share), records=fmt.number(c.service_records),
        clients=fmt.number(c.clients), income=fmt.money(c.income_cny, t),
    )


def card_change(change, kind: str, t: Translator) -> str:
    """A year-over-year change with its unit: '+101.15万元', '+6,960 小时', '+3.3 个百分点', '-5', '持平'."""
    if _missing(change):
        return fmt.MISSING
    if change == 0:
        return t("report.card.unchanged")
    sign = "+" if change > 0 else "-"
    if kind == "wan":
        return sign + fmt.money(abs(float(change)), t)
    if kind == "hours":
        return sign + fmt.hours(abs(float(change)), t)
    if kind == "rate":
        return cell_text(R.Cell(change, "pp"), t)
    return cell_text(R.Cell(change, "dcount"), t)


@dataclass(frozen=True)
class Card:
    figure: str
    label: str
    value: str
    change: str | None  # formatted change against the previous year; None without a previous value
    change_value: float | None


def summary_cards(report: R.AnnualReport, t: Translator) -> list[Card]:
    """The headline cards (SUMMARY_CARDS) of the report and of the Census & report page."""
    rows = report.headline.set_index("id")
    cards = []
    for fid in SUMMARY_CARDS:
        r = rows.loc[fid]
        kind = r["kind"]
        value = (fmt.money(r["current"], t) if kind == "wan" else fmt.hours(r["current"], t) if kind == "hours"
                 else cell_text(R.Cell(r["current"], kind), t))
        missing = _missing(r["change"])
        cards.append(Card(fid, t(f"report.fig.{fid}.label"), value, None if missing else card_change(r["change"], kind, t),
                          None if missing else float(r["change"])))
    return cards


def _cards(report: R.AnnualReport, t: Translator) -> str:
    out = []
    for card in summary_cards(report, t):
        delta = (t("report.card.delta", year=report.year - 1, change=card.change) if card.change is not None
                 else t("report.card.no_previous"))
        out.append(f'<div class="card" data-figure="{card.figure}"><div class="label">{html.escape(card.label)}</div>'
                   f'<div class="value">{html.escape(card.value)}</div><div class="delta">{html.escape(delta)}</div></div>')
    return f'<div class="cards">{"".join(out)}</div>'


def _methods(report: R.AnnualReport, meta: R.ReportMeta, t: Translator) -> str:
    params = R.definition_params(report.policy)
    generated = R.generated_text(meta.generated_at, t)
    parts = [f"<h3>{html.escape(t('report.methods.scope.title'))}</h3>"]
    for key in ("report.methods.scope.text", "report.methods.register.text", "report.methods.exempt.text",
                "report.methods.hours.text", "report.methods.services.text", "report.methods.bands.text"):
        parts.append(f"<p>{html.escape(t(key, **params))}</p>")
    parts.append(f"<h3>{html.escape(t('report.methods.definitions.title'))}</h3>")
    parts.append(table_html(R.definitions_table(report, t), t, "defs", caption=False))
    parts.append(f"<h3>{html.escape(t('report.methods.sources.title'))}</h3>")
    items = "".join(f"<li>{html.escape(t(f'report.methods.source.{i}'))}</li>" for i in range(1, 6))
    parts.append(f'<ol class="sources">{items}</ol>')
    parts.append(f"<h3>{html.escape(t('report.methods.data.title'))}</h3>")
    parts.append(f"<p>{html.escape(t('report.methods.data.text', revision=meta.revision, generated=generated))}</p>")
    if meta.demo_seed is not None:
        parts.append(f'<p class="notice">{html.escape(t("report.demo_notice", seed=meta.demo_seed))}</p>')
    return "".join(parts)


def render_html(report: R.AnnualReport, meta: R.ReportMeta, t: Translator) -> str:
    """The whole report as one HTML document (see the module docstring)."""
    tables = {tb.id: tb for tb in R.report_tables(report, t)}
    esc = html.escape
    axis_n = t("report.axis.instruments")
    sections: list[tuple[str, str]] = []

    summary = [f'<p class="lead">{esc(summary_text(report, t))}</p>', _cards(report, t),
               table_html(tables["headline"], t)]
    sections.append(("summary", "".join(summary)))

    dist = []
    region = report.breakdowns["region"]
    dist.append(_block(t("report.breakdown.region"),
                       _figure(svg_of(region_map(region, _labels(report, "region", t), axis_n), "map"),
                               t("report.chart.map.caption")),
                       table_html(tables["region"], t, "breakdown", caption=False)))
    for bid in ("class", "unit_type", "value_band", "funding", "country"):
        frame = report.breakdowns[bid]
        dist.append(_block(t(f"report.breakdown.{bid}"),
                           _figure(svg_of(bar_chart(_labels(report, bid, t), list(frame["instruments"]), axis_n, ",d"), bid)),
                           table_html(tables[bid], t, "breakdown", caption=False)))
    sections.append(("distribution", "".join(dist)))

    share = report.breakdowns["share_mode"]
    opening = [f"<p>{esc(t('report.openness.intro'))}</p>", table_html(tables["openness"], t, "kv"),
               _block(t("report.breakdown.share_mode"),
                      _figure(svg_of(bar_chart(_labels(report, "share_mode", t), list(share["instruments"]), axis_n,
                                               ",d"), "share_mode")),
                      table_html(tables["share_mode"], t, "breakdown", caption=False))]
    sections.append(("openness", "".join(opening)))

    params = R.definition_params(report.policy)
    loads = report.loads
    load_labels = [t(f"report.load.{k}", **params) for k in loads["key"]]
    unit_type = report.breakdowns["unit_type"]
    use = [f"<p>{esc(t('report.utilisation.intro', **params))}</p>", table_html(tables["utilisation"], t, "kv"),
           _block(t("report.table.loads"),
                  _figure(svg_of(bar_chart(load_labels, list(loads["instruments"]), axis_n, ",d",
                                           [LOAD_COLOURS[k] for k in loads["key"]]), "loads")),
                  table_html(tables["loads"], t, caption=False)),
           _block(t("report.chart.utilisation_by_type"),
                  _figure(svg_of(bar_chart(_labels(report, "unit_type", t), list(unit_type["utilisation"]),
                                           t("report.axis.utilisation"), ".0%"), "utilisation_by_type"),
                          t("report.chart.utilisation_by_type.caption")))]
    sections.append(("utilisation", "".join(use)))

    service = [f"<p>{esc(t('report.service.intro'))}</p>", table_html(tables["service"], t, "kv"),
               _block(t("report.chart.external_by_type"),
                      _figure(svg_of(bar_chart(_labels(report, "unit_type", t), list(unit_type["external_hours"]),
                                               t("report.axis.external_hours"), ",.0f"), "external_by_type")))]
    sections.append(("service", "".join(service)))
    sections.append(("methods", _methods(report, meta, t)))

    title = t("report.html.title", year=report.year)
    toc = "".join(f"<li>{esc(t(f'report.section.{sid}'))}</li>" for sid, _ in sections)
    demo = (f'<p class="notice" data-demo="1">{esc(t("report.demo_notice", seed=meta.demo_seed))}</p>'
            if meta.demo_seed is not None else "")
    generated = R.generated_text(meta.generated_at, t)
    cover = (f'<header class="cover"><p class="kicker">{esc(t("report.html.kicker"))}</p><h1>{esc(title)}</h1>'
             f'<p class="meta">{esc(t("report.html.meta", year=report.year, revision=meta.revision, generated=generated))}</p>'
             f'{demo}<nav class="toc"><strong>{esc(t("report.html.toc"))}</strong><ul>{toc}</ul></nav></header>')
    body = "".join(f'<section id="{sid}"><h2>{esc(t(f"report.section.{sid}"))}</h2>{content}</section>'
                   for sid, content in sections)
    footer = f"<footer>{esc(t('report.html.footer', year=report.year, revision=meta.revision))}</footer>"
    lang = "zh-CN" if t.lang == "zh" else "en"
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head>"
            f"<body>{cover}{body}{footer}</body></html>\n")


# ---- the command -----------------------------------------------------------------------------


def file_names(year: int, lang: str) -> tuple[str, str]:
    """Default download names of the HTML report and its Excel tables."""
    return f"alxa-annual-report-{year}-{lang}.html", f"alxa-annual-report-{year}-{lang}.xlsx"


def run_report(engine, args, t: Translator) -> int:
    """`python -m dashboard report --year Y --out FILE.html [--xlsx FILE.xlsx] [--lang en]`.

    Everything is rendered in memory first: on any error nothing is written and the exit code is 1."""
    from dashboard.report_xlsx import render_xlsx

    try:
        inputs = R.load_inputs(engine, args.year)
    except R.ReportUnavailable as exc:
        print(exc.message(t), file=sys.stderr)
        return EXIT_FAILED
    report = R.build_report(inputs, args.year)
    meta = R.load_meta(engine)
    document = render_html(report, meta, t).encode("utf-8")
    workbook = render_xlsx(report, meta, t) if args.xlsx else None
    targets = [(Path(args.out), document)] + ([(Path(args.xlsx), workbook)] if args.xlsx else [])
    for path, _ in targets:
        if not path.parent.is_dir():
            print(t("report.err.no_folder", path=str(path.parent)), file=sys.stderr)
            return EXIT_FAILED
    written = []
    try:
        for path, data in targets:
            path.write_bytes(data)
            written.append(path)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        print(t("report.err.write", path=str(exc.filename or ""), reason=exc.strerror or str(exc)), file=sys.stderr)
        return EXIT_FAILED
    for path, _ in targets:
        print(t("report.cli.written", path=str(path)))
    return EXIT_OK
