"""Published evaluations: the immutable snapshot, its fingerprints, and the public notice.

A snapshot is plain JSON-ready data: the scheme (definition and version) and the global weights
used, the data fingerprint, every unit's raw and normalised indicator values, group scores, score,
rank, grade and status, and a timestamp. Two fingerprints make it checkable:

- `data_fingerprint(table)`: SHA-256 of the raw indicator matrix and unit statuses. It changes
  when the store's data change in a way the evaluation can see.
- the snapshot's "fingerprint": `scoring.result_fingerprint` — SHA-256 of the scheme, the
  weights, every unit's score, group scores, rank, grade and status, and the data fingerprint;
  not the timestamp, so publishing twice with unchanged data and scheme gives the same
  fingerprint (and the write service stores it once).

Both hash a canonical JSON text (keys sorted, floats rounded to 6 decimals, NaN as null), so a
value that differs only in the last bits between SQLite and PostgreSQL sums hashes the same.
Re-computing a publication (`dashboard.evaluation.verify_publication`) compares fingerprints.

`notice_csv` / `notice_html` render the public notice (公示) of a snapshot in a Translator's
language; every text comes from the catalogues, every data text in HTML is escaped.
"""

from __future__ import annotations

import hashlib
import html
import math
from collections.abc import Mapping
from datetime import datetime, timezone

import numpy as np
import pandas as pd

from dashboard import scoring
from dashboard.i18n import Translator, catalogue
from dashboard.exporter import csv_document, neutralised
from dashboard.indicators import formula_params
from dashboard.scheme import GROUP_IDS, Scheme

SNAPSHOT_FORMAT = 1
DECIMALS = 6  # canonical rounding: far below display precision, far above float noise
RATED = "rated"
NOT_REPORTED = "not_reported"
TIMESTAMP_KEY = "created_at"


# --------------------------------------------------------------------------- canonical JSON


def _plain(value, decimals: int | None = DECIMALS):
    """A JSON-ready copy for storage: numpy scalars to Python, NaN/None to None, floats rounded."""
    kind = type(value)  # the common exact types first (a snapshot holds ~40 values per unit)
    if kind is str:
        return value
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            return None
        return (round(value, decimals) if decimals is not None else value) + 0.0
    if kind is dict:
        return {str(k): _plain(v, decimals) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, decimals) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, decimals) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f) or math.isinf(f):
            return None
        return (round(f, decimals) if decimals is not None else f) + 0.0  # -0.0 -> 0.0
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value if isinstance(value, str) else str(value)


def data_fingerprint(table) -> str:
    """SHA-256 of the raw indicator matrix and the unit statuses of an IndicatorTable (canonical
    JSON: keys sorted, floats rounded to 6 decimals, NaN as null)."""
    raw = table.raw.sort_index()
    columns = sorted(raw.columns)
    # Column by column (each keeps its own type, as a cell read would): one pass, no lookups.
    values = [raw[col].tolist() for col in columns]
    matrix = {str(uid): dict(zip(columns, row)) for uid, *row in zip(raw.index, *values)}
    statuses = {str(uid): str(s) for uid, s in table.units["status"].sort_index().items()}
    text = scoring.canonical_json({"raw": matrix, "status": statuses})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- snapshot


def _rows_by_unit(frame: pd.DataFrame) -> dict:
    """unit id -> {column: value} of every row of `frame` (values as a row read gives them)."""
    columns = list(frame.columns)
    return {uid: dict(zip(columns, row)) for uid, row in zip(frame.index, frame.to_numpy().tolist())}


def _column(frame: pd.DataFrame, name: str, n: int) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * n


def _unit_records(table, result, regions: Mapping) -> list[dict]:
    """One record per unit of `table.units` (in its order): names, type, region, status, raw and
    normalised values, group scores, score, rank and grade. Built column by column: a per-unit
    row lookup costs more than the whole evaluation at national scale."""
    units = table.units
    n = len(units)
    res = result.table.reindex(units.index)  # a unit missing from the result: all NaN (= None)
    raw, normalised = _rows_by_unit(table.raw), _rows_by_unit(result.normalised)
    groups = {g: _column(res, g, n) for g in GROUP_IDS}
    columns = zip(units.index, _column(units, "name", n), _column(units, "name_en", n), _column(units, "unit_type", n),
                  _column(units, "region_code", n), _column(units, "eligible_instruments", n),
                  _column(units, "status", n), _column(res, "score", n), _column(res, "rank", n),
                  _column(res, "grade", n))
    records = []
    for k, (uid, name, name_en, unit_type, region_code, eligible, status, score, rank, grade) in enumerate(columns):
        status = str(status)
        rated = status == RATED
        region_zh, region_en = regions.get(str(region_code), ("", ""))
        rank = rank if rated else None
        records.append({
            "unit_id": int(uid),
            "name": name,
            "name_en": _text(name_en),
            "unit_type": unit_type,
            "region_code": str(region_code),
            "region_name_zh": region_zh,
            "region_name_en": region_en,
            "eligible_instruments": int(eligible),
            "status": status,
            "raw": raw.get(uid, {}),
            "normalised": normalised.get(uid, {}),
            "groups": {g: groups[g][k] for g in GROUP_IDS} if rated else {g: None for g in GROUP_IDS},
            "score": score if rated else None,
            "rank": None if rank is None or pd.isna(rank) else int(rank),
            "grade": "" if grade is None or pd.isna(grade) else str(grade or ""),
        })
    return records


def _text(value) -> str:
    return value if isinstance(value, str) else ""  # NaN / None (no English name) -> ""


def _ordered_units(records: list[dict]) -> list[dict]:
    """Rated units by rank, then the others by unit id: the order of the notice."""
    rated = sorted((r for r in records if r["rank"] is not None), key=lambda r: (r["rank"], r["unit_id"]))
    others = sorted((r for r in records if r["rank"] is None), key=lambda r: r["unit_id"])
    return rated + others


def snapshot(year: int, scheme: Scheme, result, table, data_fingerprint: str, *,
             regions: Mapping[str, tuple[str, str]] | None = None, now: datetime | None = None) -> dict:
    """The publishable record of one evaluation (see the module docstring); `regions` maps a
    region code to its (Chinese, English) names for the notice."""
    regions = regions or {}
    weights = {str(k): float(v) for k, v in result.weights.items()}
    records = _unit_records(table, result, regions)
    return {
        "format": SNAPSHOT_FORMAT,
        "year": int(year),
        "scheme": _plain(scheme.to_dict(), decimals=None),  # tuples -> lists: as stored
        # Full precision: a re-computation with these weights must reproduce the result exactly.
        "weights": _plain(weights, decimals=None),
        "geometric_floor": float(result.floor),
        "data_fingerprint": data_fingerprint,
        "units": [_plain(r) for r in _ordered_units(records)],
        TIMESTAMP_KEY: (now or datetime.now(timezone.utc)).isoformat(timespec="seconds"),
        # Of the result (scheme, weights, per-unit results, data fingerprint): no timestamp in it.
        "fingerprint": scoring.result_fingerprint(result, data_fingerprint),
    }


def snapshot_scheme(snap: Mapping) -> Scheme:
    return Scheme.from_dict(snap["scheme"])


def rated_units(snap: Mapping) -> list[dict]:
    return [u for u in snap["units"] if u["rank"] is not None]


def unrated_units(snap: Mapping) -> list[dict]:
    return [u for u in snap["units"] if u["rank"] is None]


def grade_counts(snap: Mapping) -> dict[str, int]:
    """Units per grade label, in the scheme's grade order (labels with no unit count 0)."""
    labels = snapshot_scheme(snap).grade.labels()
    counts = {label: 0 for label in labels}
    for u in snap["units"]:
        if u["grade"]:
            counts[u["grade"]] = counts.get(u["grade"], 0) + 1
    return counts


def unit_differences(published: Mapping, recomputed: Mapping) -> pd.DataFrame:
    """Units whose status, score (at the fingerprint's 6 decimals), rank or grade differ between
    two snapshots, including units present in only one of them."""
    old = {u["unit_id"]: u for u in published["units"]}
    new = {u["unit_id"]: u for u in recomputed["units"]}
    rows = []
    for uid in sorted(old.keys() | new.keys()):
        a, b = old.get(uid, {}), new.get(uid, {})
        keys = ("status", "rank", "grade")
        changed = any(a.get(k) != b.get(k) for k in keys) or _score6(a.get("score")) != _score6(b.get("score"))
        if changed:
            rows.append({
                "unit_id": uid, "name": (b or a).get("name", ""),
                "published_score": a.get("score"), "score": b.get("score"),
                "published_rank": a.get("rank"), "rank": b.get("rank"),
                "published_grade": a.get("grade", ""), "grade": b.get("grade", ""),
                "published_status": a.get("status", ""), "status": b.get("status", ""),
            })
    columns = ["unit_id", "name", "published_score", "score", "published_rank", "rank",
               "published_grade", "grade", "published_status", "status"]
    return pd.DataFrame(rows, columns=columns)


def _score6(score):
    return None if score is None else round(float(score), DECIMALS)


# --------------------------------------------------------------------------- notice texts


def _has(t: Translator, key: str) -> bool:
    return key in catalogue(t.lang)


def unit_name(u: Mapping, t: Translator) -> str:
    return u["name_en"] if t.lang == "en" and u.get("name_en") else u["name"]


def region_name(u: Mapping, t: Translator) -> str:
    name = u.get("region_name_en") if t.lang == "en" else u.get("region_name_zh")
    return name or u.get("region_name_zh") or u["region_code"]


def grade_label(grade: str, t: Translator) -> str:
    """A grade in the notice language; a configured fourth label without a translation stays as is."""
    key = f"pub.grade.{grade}"
    return t(key) if grade and _has(t, key) else grade


def not_rated_reason(u: Mapping, scheme: Scheme, t: Translator) -> str:
    return t(f"pub.reason.{u['status']}", min_instruments=scheme.min_instruments)


def _score_text(value) -> str:
    return "" if value is None else f"{float(value):.2f}"


def ranking_rows(snap: Mapping, t: Translator) -> list[list[str]]:
    rows = []
    for u in rated_units(snap):
        rows.append([str(u["rank"]), unit_name(u, t), t.enum("unit_type", u["unit_type"]), region_name(u, t),
                     _score_text(u["score"])] + [_score_text(u["groups"][g]) for g in GROUP_IDS]
                    + [grade_label(u["grade"], t)])
    return rows


def unrated_rows(snap: Mapping, t: Translator) -> list[list[str]]:
    scheme = snapshot_scheme(snap)
    return [[unit_name(u, t), t.enum("unit_type", u["unit_type"]), region_name(u, t), grade_label(u["grade"], t),
             not_rated_reason(u, scheme, t)] for u in unrated_units(snap)]


def ranking_headers(t: Translator) -> list[str]:
    return ([t("pub.col.rank"), t("pub.col.unit"), t("pub.col.unit_type"), t("pub.col.region"), t("pub.col.score")]
            + [t(f"eval.group.{g}.name") for g in GROUP_IDS] + [t("pub.col.grade")])


def unrated_headers(t: Translator) -> list[str]:
    return [t("pub.col.unit"), t("pub.col.unit_type"), t("pub.col.region"), t("pub.col.grade"), t("pub.col.reason")]


def notice_csv(snap: Mapping, t: Translator) -> bytes:
    """The public ranking as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese):
    rated units in rank order, then the units not rated with the reason."""
    rows = [list(row) + [""] for row in ranking_rows(snap, t)]
    rows += [["", name, unit_type, region, ""] + ["" for _ in GROUP_IDS] + [grade, reason]
             for name, unit_type, region, grade, reason in unrated_rows(snap, t)]
    return csv_document(ranking_headers(t) + [t("pub.col.reason")],
                        ([neutralised(str(c)) for c in row] for row in rows))


# --------------------------------------------------------------------------- HTML notice

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:60em;color:#222}
h1{font-size:1.5em;text-align:center}h2{font-size:1.2em;border-bottom:1px solid #888;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eee}td.num{text-align:right}p.meta{text-align:center;color:#444}
code{font-size:.85em;word-break:break-all}
table.annex td:nth-child(1),table.annex td:nth-child(2),table.annex td:nth-child(5){white-space:nowrap}
@page{size:A4;margin:15mm 14mm}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}tr{page-break-inside:avoid}
thead{display:table-header-group}th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), css_class: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    opening = f'<table class="{css_class}">' if css_class else "<table>"
    return f"{opening}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def normalisation_text(ind, t: Translator) -> str:
    """How one indicator is normalised, e.g. "goalposts 0 → 1, capped" (direction included)."""
    params = {k: f"{float(v):g}" for k, v in ind.params.items()}
    text = t(f"pub.method.{ind.method}", **params)
    return text if ind.direction == "higher" else t("pub.method.reversed", method=text)


def _indicator_rows(snap: Mapping, t: Translator) -> list[list[str]]:
    scheme = snapshot_scheme(snap)
    weights, fparams = snap["weights"], formula_params()
    rows = []
    for ind in scheme.indicators:
        rows.append([
            t(f"eval.group.{ind.group}.name"),
            t(f"eval.ind.{ind.id}.name"),
            t(f"eval.ind.{ind.id}.formula", **fparams),
            t(f"eval.ind.{ind.id}.unit"),
            t(f"pub.direction.{ind.direction}"),
            normalisation_text(ind, t),
            f"{100 * float(weights.get(ind.id, 0.0)):.2f}",
        ])
    return rows


def _group_rows(snap: Mapping, t: Translator) -> list[list[str]]:
    scheme = snapshot_scheme(snap)
    weights = snap["weights"]
    return [[t(f"eval.group.{g.id}.name"),
             f"{100 * sum(float(weights.get(i.id, 0.0)) for i in scheme.indicators if i.group == g.id):.2f}"]
            for g in scheme.groups]


def grade_rule_text(scheme: Scheme, t: Translator) -> str:
    rule, labels = scheme.grade, [grade_label(g, t) for g in scheme.grade.labels()]
    if rule.mode == "bands":
        hi, mid, lo = (f"{b:g}" for b in rule.bands)
        return t("pub.annex.grade_bands", a=labels[0], b=labels[1], c=labels[2], d=labels[3], hi=hi, mid=mid, lo=lo)
    return t("pub.annex.grade_quotas", a=labels[0], b=labels[1], c=labels[2], d=labels[3],
             qa=f"{100 * rule.quotas[0]:g}", qb=f"{100 * rule.quotas[1]:g}", pass_score=f"{rule.pass_score:g}")


def _annex(snap: Mapping, t: Translator) -> str:
    scheme = snapshot_scheme(snap)
    parts = [
        f"<h2>{_e(t('pub.annex.title'))}</h2>",
        f"<p>{_e(t('pub.annex.scheme', name=scheme.name, version=scheme.version))}</p>",
        f"<h3>{_e(t('pub.annex.indicators'))}</h3>",
        _table([t("pub.col.group"), t("pub.col.indicator"), t("pub.col.formula"), t("pub.col.unit_of_measure"),
                t("pub.col.direction"), t("pub.col.normalisation"), t("pub.col.weight")],
               _indicator_rows(snap, t), numeric={6}, css_class="annex"),
        f"<h3>{_e(t('pub.annex.groups'))}</h3>",
        _table([t("pub.col.group"), t("pub.col.weight")], _group_rows(snap, t), numeric={1}),
        f"<h3>{_e(t('pub.annex.method'))}</h3>",
        "<ul>",
        f"<li>{_e(t('pub.annex.normalisation'))}</li>",
        f"<li>{_e(t(f'pub.annex.aggregation.{scheme.aggregation}'))}</li>",
        f"<li>{_e(t('pub.annex.missing'))}</li>",
        f"<li>{_e(grade_rule_text(scheme, t))}</li>",
        f"<li>{_e(t('pub.annex.tie_break', group=t(f'eval.group.{scheme.tie_break_group}.name')))}</li>",
        f"<li>{_e(t('pub.annex.not_rated', min_instruments=scheme.min_instruments))}</li>",
        "</ul>",
        f"<h3>{_e(t('pub.annex.fingerprints'))}</h3>",
        f"<p>{_e(t('pub.annex.data_fingerprint'))} <code>{_e(snap['data_fingerprint'])}</code></p>",
        f"<p>{_e(t('pub.annex.content_fingerprint'))} <code>{_e(snap.get('fingerprint', ''))}</code></p>",
        f"<p>{_e(t('pub.annex.verify'))}</p>",
    ]
    return "\n".join(parts)


def notice_html(snap: Mapping, t: Translator) -> str:
    """A self-contained printable HTML page of the public notice with its methods annex."""
    scheme = snapshot_scheme(snap)
    title = t("pub.notice.title")
    counts = grade_counts(snap)
    count_rows = [[grade_label(label, t), str(n)] for label, n in counts.items()]
    unrated = unrated_rows(snap, t)
    body = [
        f"<h1>{_e(title)}</h1>",
        f"<p class=\"meta\">{_e(t('pub.notice.subtitle', year=snap['year'], scheme=scheme.name, version=scheme.version))}</p>",
        f"<p class=\"meta\">{_e(t('pub.notice.computed_at', at=snap.get(TIMESTAMP_KEY, '')))}</p>",
        f"<h2>{_e(t('pub.notice.ranking'))}</h2>",
        _table(ranking_headers(t), ranking_rows(snap, t), numeric={0, 4, 5, 6, 7}),
        f"<h2>{_e(t('pub.notice.grades'))}</h2>",
        _table([t("pub.col.grade"), t("pub.col.count")], count_rows, numeric={1}),
    ]
    if unrated:
        body += [f"<h2>{_e(t('pub.notice.not_rated'))}</h2>", _table(unrated_headers(t), unrated)]
    body.append(_annex(snap, t))
    return (
        f'<!DOCTYPE html>\n<html lang="{_e("zh-CN" if t.lang == "zh" else "en")}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(title)} {_e(snap['year'])}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body) + "\n</body>\n</html>\n"
    )
