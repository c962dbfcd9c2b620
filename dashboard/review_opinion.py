"""The printable review opinion (评议意见书) of one purchase request, for the joint purchase-review
group: the request, its duplicate check with the rule trace and the similar instruments, the
decision in force with the superseded history, and a signature block.

`render_opinion(request, check, decisions, t, demo=..., generated_at=...)` returns one
self-contained HTML page to print on A4: the style sheet is inline, there is no script, no image
and no link, so it makes no request of any kind (same style family as `dashboard.brief_html`).
Every label comes from the catalogues (opinion.json, plus dupcheck.*, format.* and enum.*); every
text from the store or the user (names, specifications, reasons, reviewers …) is escaped.

Inputs
- request: a row of `models.queries.purchase_requests` as a dict.
- check: None (no duplicate check on record) or the stored snapshot
  (`dashboard.purchases.check_snapshot(...)`) with "checked_at" (ISO datetime, UTC) and
  "checked_by" added.
- decisions: every decision of the request, oldest first. The decision in force is the one no
  other decision supersedes (the newest by id if the chain were ever forked), as in
  `dashboard.purchases.current_decisions`; the others are printed as history.

Times: `generated_at` None = now; a naive `generated_at` is taken as the machine's local time
(as in the brief). Stored times (checked_at, created_at) that come back naive are UTC (the store
writes UTC). Every time is printed in Beijing time.
"""

from __future__ import annotations

import html
import math
from datetime import date, datetime, timezone
from typing import Mapping, Sequence
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import dupcheck as D
from dashboard import formatting as fmt
from dashboard import purchases as P
from dashboard.i18n import MissingTranslation, Translator

BEIJING = ZoneInfo("Asia/Shanghai")
TOP_MATCHES = 10  # rows of the similar-instruments table; the rest is counted, not listed
HOUR_EVIDENCE = (D.RULE_IDLE_SHARABLE, D.RULE_IDLE_NOT_SHARED, D.RULE_NORMAL_LOAD, D.RULE_ALL_SATURATED)
MONEY_EVIDENCE = (D.FLAG_NEAR_THRESHOLD, D.FLAG_SPLIT)
DEFINITIONS = ("hours", "spare", "score", "distance")

CSS = """
* { box-sizing: border-box; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1d2430; font-size: 13px; line-height: 1.45; }
html:lang(en) { font-family: "Noto Sans", "Liberation Sans", Arial, "Noto Sans CJK SC", sans-serif; }
body { margin: 0 auto; max-width: 190mm; padding: 12px 16px; background: #fff; }
.kicker { color: #5b6675; margin: 0; font-size: .85rem; letter-spacing: .03em; text-align: center; }
h1 { font-size: 1.45rem; margin: .15rem 0 .25rem; line-height: 1.25; text-align: center; }
h2 { font-size: 1.02rem; margin: .8rem 0 .3rem; border-bottom: 2px solid #1f6f8b; padding-bottom: .1rem; }
h3 { font-size: .92rem; margin: .5rem 0 .2rem; color: #1f6f8b; }
p { margin: .2rem 0; }
.meta { color: #5b6675; font-size: .85rem; text-align: center; }
.notice { border: 1px solid #e0b252; background: #fdf6e3; padding: .3rem .6rem; border-radius: 3px; margin: .4rem 0; }
.draft { border: 2px solid #b03a2e; color: #b03a2e; background: #fbeeec; font-weight: 700; font-size: 1.05rem;
         padding: .4rem .6rem; margin: .4rem 0; text-align: center; letter-spacing: .05em; }
.verdict { display: inline-block; font-weight: 700; font-size: 1.1rem; padding: .05rem .5rem; border: 2px solid #1f6f8b;
           border-radius: 3px; color: #1f6f8b; }
.verdict.reject { border-color: #b03a2e; color: #b03a2e; }
.verdict.adjust { border-color: #b7791f; color: #8a5a12; }
.verdict.pass { border-color: #1b6e3a; color: #1b6e3a; }
table { border-collapse: collapse; width: 100%; margin: .2rem 0; font-size: .8rem; }
th, td { border: 1px solid #d5dbe3; padding: .15rem .35rem; vertical-align: top; text-align: left; }
thead th { background: #eef4f7; font-weight: 600; }
table.fields th { width: 24%; background: #eef4f7; font-weight: 600; }
td.text { white-space: pre-wrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.matches { font-size: .72rem; }
table.matches td, table.matches th { padding: .1rem .2rem; }
table.matches td.num, table.matches th.num { white-space: normal; }
ul.trace { margin: .2rem 0; padding-left: 1.2rem; }
ul.trace ul { margin: .05rem 0 .2rem; padding-left: 1.1rem; color: #3a4452; }
.more { font-size: .75rem; color: #5b6675; }
.sign { display: grid; grid-template-columns: 2fr 1fr 1fr; gap: 14px; margin: 1.6rem 0 .6rem; break-inside: avoid; }
.sign div { border-bottom: 1px solid #1d2430; padding-bottom: 2.2rem; }
footer { margin-top: .6rem; font-size: .72rem; color: #5b6675; border-top: 1px solid #d5dbe3; padding-top: .25rem; }
footer ul { margin: .1rem 0; padding-left: 1.1rem; }
@page { size: A4; margin: 10mm 11mm; }
@media print { html { font-size: 11px; } body { max-width: none; padding: 0; } h2, h3 { break-after: avoid; }
  tr, .notice, .draft, .sign { break-inside: avoid; } thead { display: table-header-group; } }
"""


# --------------------------------------------------------------------------- small helpers


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return False


def _text(v) -> str:
    return "" if _missing(v) else str(v).strip()


def _or_missing(v) -> str:
    return _text(v) or fmt.MISSING


def _label(t: Translator, key: str, fallback) -> str:
    """The catalogue text of an id read from the store; the id itself when the catalogue lacks it
    (an older snapshot may carry an id this version no longer knows)."""
    try:
        return t(key)
    except MissingTranslation:
        return str(fallback)


def _aware(value, naive_is_utc: bool) -> datetime | None:
    if _missing(value) or value == "":
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if value.tzinfo is None and naive_is_utc:
        value = value.replace(tzinfo=timezone.utc)
    return value


def beijing_time(at: datetime, t: Translator) -> str:
    return t("opinion.beijing_time", time=at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"))


def _stored_time(value, t: Translator) -> str:
    at = _aware(value, naive_is_utc=True)
    if at is None:
        return _or_missing(value)
    return beijing_time(at, t)


def _day(value) -> str:
    if _missing(value):
        return fmt.MISSING
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()[:10] or fmt.MISSING


def _hours(value, t: Translator) -> str:
    if _missing(value):
        return fmt.MISSING
    return t("format.hours", value=fmt.trimmed(float(value), 1))


def _join(items, t: Translator) -> str:
    return t("opinion.list_separator").join(items)


def _name(zh, en, t: Translator, fallback="") -> str:
    """The English name in English when there is one, else the Chinese one, else the fallback."""
    if t.lang == "en" and _text(en):
        return _text(en)
    return _text(zh) or _text(en) or _text(fallback)


def _verdict_id(value) -> str | None:
    try:
        return P.verdict_id(value)
    except ValueError:
        return None


def _verdict_html(value, t: Translator) -> str:
    vid = _verdict_id(value)
    text = t(f"dupcheck.verdict.{vid}") if vid else _or_missing(value)
    return f'<span class="verdict {vid or ""}">{_e(text)}</span>'


def _fields(rows: list[tuple[str, str, bool]]) -> str:
    """A label/value table; rows (label, value, multi-line). Texts are escaped here."""
    text_cell = ' class="text"'
    body = "".join(f"<tr><th>{_e(label)}</th><td{text_cell if multi else ''}>{_e(value)}</td></tr>"
                   for label, value, multi in rows)
    return f'<table class="fields"><tbody>{body}</tbody></table>'


def _table(head: list[tuple[str, bool]], rows: list[list[tuple[str, str]]], css: str = "") -> str:
    """head: (text, numeric); rows: cells (text, css class). Texts are escaped here."""
    th = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>" for h, num in head)
    body = "".join("<tr>" + "".join(f'<td class="{c}">{_e(v)}</td>' if c else f"<td>{_e(v)}</td>"
                                    for v, c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------- request


def _price(value, t: Translator) -> str:
    if _missing(value):
        return fmt.MISSING
    price = float(value)
    money = fmt.money(price, t)
    exact = fmt.number(price, 0 if price == round(price) else 2)
    return money if exact in money else t("opinion.request.price_exact", money=money, exact=exact)


def _tier(request: Mapping, check: Mapping | None) -> str | None:
    if check and check.get("tier"):
        return str(check["tier"])
    if _missing(request.get("quoted_price")):
        return None
    return D.tier_of(float(request["quoted_price"]))


def _request_section(request: Mapping, check: Mapping | None, t: Translator) -> str:
    r = request
    status = _text(r.get("status"))
    tier = _tier(r, check)
    funding = _text(r.get("funding"))
    rows = [
        (t("opinion.field.request_no"), _or_missing(r.get("request_no")), False),
        (t("opinion.field.applicant"), _name(r.get("applicant_name"), r.get("applicant_name_en"), t,
                                             r.get("applicant_unit_id")) or fmt.MISSING, False),
        (t("opinion.field.instrument_name"), _or_missing(r.get("instrument_name")), False),
        (t("opinion.field.class_code"), _or_missing(r.get("class_code")), False),
        (t("opinion.field.model"), _or_missing(r.get("model")), False),
        (t("opinion.field.manufacturer"), _or_missing(r.get("manufacturer")), False),
        (t("opinion.field.key_specs"), _or_missing(r.get("key_specs")), True),
        (t("opinion.field.quoted_price"), _price(r.get("quoted_price"), t), False),
        (t("opinion.field.quotes"), _or_missing(r.get("quotes")), True),
        (t("opinion.field.funding"), t.enum("funding", funding) if funding else fmt.MISSING, False),
        (t("opinion.field.justification"), _or_missing(r.get("justification")), True),
        (t("opinion.field.expected_annual_hours"), _hours(r.get("expected_annual_hours"), t), False),
        (t("opinion.field.location"), _name(r.get("region_name_zh"), r.get("region_name_en"), t,
                                            r.get("region_code")) or fmt.MISSING, False),
        (t("opinion.field.submitted_date"), _day(r.get("submitted_date")), False),
        (t("opinion.field.tier"), _label(t, f"dupcheck.tier.{tier}", tier) if tier else fmt.MISSING, False),
        (t("opinion.field.status"), _label(t, f"opinion.status.{status}", status) if status else fmt.MISSING, False),
    ]
    return f"<section><h2>{_e(t('opinion.section.request'))}</h2>{_fields(rows)}</section>"


# --------------------------------------------------------------------------- duplicate check


def _years_text(years, t: Translator) -> str:
    years = [int(y) for y in (years or [])]
    if not years:
        return t("opinion.check.no_years")
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _rules_text(rules: Mapping, t: Translator) -> str:
    edges = " / ".join(fmt.money(float(e), t) for e in rules.get("tier_edges_cny", []))
    return t("opinion.check.rules", edges=edges or fmt.MISSING, low=_hours(rules.get("low_use_hours"), t),
             saturation=_hours(rules.get("saturation_hours"), t), years=_or_missing(rules.get("history_years")))


def _match_unit(m: Mapping, t: Translator) -> str:
    return _name(m.get("unit_name"), m.get("unit_name_en"), t, m.get("unit_id"))


def _match_region(m: Mapping, t: Translator) -> str:
    return _name(m.get("region_name_zh"), m.get("region_name_en"), t, m.get("region_code"))


def _same_id(a, b) -> bool:
    if _missing(a) or _missing(b):
        return False
    try:
        return int(a) == int(b)
    except (TypeError, ValueError):
        return False


def _subject(instrument_id, matches: list[Mapping], t: Translator) -> str:
    for m in matches:
        if _same_id(m.get("instrument_id"), instrument_id):
            return t("opinion.evidence.subject", name=_or_missing(m.get("name_zh")), unit=_match_unit(m, t),
                     rank=_or_missing(m.get("rank")))
    return t("opinion.evidence.instrument", id=_or_missing(instrument_id))


def _evidence_text(e: Mapping, matches: list[Mapping], t: Translator) -> str:
    rid, value, line = _text(e.get("id")), e.get("value"), e.get("line")
    if rid in HOUR_EVIDENCE:
        return t(f"opinion.evidence.{rid}", subject=_subject(e.get("instrument_id"), matches, t),
                 value=_hours(value, t), line=_hours(line, t))
    if rid in MONEY_EVIDENCE:
        return t(f"opinion.evidence.{rid}", value=_price(value, t), line=_price(line, t))
    if rid == D.RULE_RESTRICTED:
        years = [str(int(v)) if not _missing(v) else fmt.MISSING for v in (value, line)]
        return t("opinion.evidence.applicant_restricted", from_year=years[0], until_year=years[1])
    if rid == D.RULE_NO_SIMILAR:
        count = 0 if _missing(value) else int(value)
        return t("opinion.evidence.no_similar", count=count) if count else t("opinion.evidence.no_similar_none")
    return t("opinion.evidence.generic", value=fmt.number(value, 1), line=fmt.number(line, 1))


def _trace(check: Mapping, t: Translator) -> str:
    matches = list(check.get("matches") or [])
    evidence = list(check.get("evidence") or [])
    items = [("rule", str(r)) for r in check.get("rules") or []] + [("flag", str(f)) for f in check.get("flags") or []]
    for e in evidence:  # evidence of an id the lists do not name (not expected; printed rather than lost)
        item = (str(e.get("kind")), str(e.get("id")))
        if item not in items:
            items.append(item)
    if not items:
        return f"<p>{_e(t('opinion.check.no_trace'))}</p>"
    out = []
    for kind, rid in items:
        label = _label(t, f"dupcheck.{kind}.{rid}", rid)
        if kind == "rule" and rid in D.RULE_VERDICT:
            head = t("opinion.check.rule_item", label=label, verdict=t(f"dupcheck.verdict.{D.RULE_VERDICT[rid]}"))
        elif kind == "flag":
            head = t("opinion.check.flag_item", label=label)
        else:
            head = label
        lines = [_evidence_text(e, matches, t) for e in evidence if str(e.get("kind")) == kind and str(e.get("id")) == rid]
        sub = "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>" if lines else ""
        out.append(f'<li data-rule="{_e(rid)}"><strong>{_e(head)}</strong>{sub}</li>')
    return f'<ul class="trace">{"".join(out)}</ul>'


def _distance(value) -> str:
    return fmt.MISSING if _missing(value) else fmt.number(float(value), 1)


def _score(value) -> str:
    return fmt.MISSING if _missing(value) else f"{float(value):.2f}"


def _avg_hours(m: Mapping, years_total: int, t: Translator) -> str:
    text = _hours(m.get("avg_hours"), t)
    counted = m.get("years_counted")
    if not _missing(counted) and years_total and int(counted) != years_total:
        return t("opinion.matches.hours_years", hours=text, years=int(counted))
    return text


def _rank_key(m: Mapping):
    r = m.get("rank")
    return (1, 0) if _missing(r) else (0, int(r))


def _matches_table(check: Mapping, t: Translator) -> str:
    matches = sorted(check.get("matches") or [], key=_rank_key)
    if not matches:
        return f"<p>{_e(t('opinion.matches.none'))}</p>"
    years_total = len(check.get("years") or [])
    head = [(t("opinion.col.rank"), True), (t("opinion.col.name"), False), (t("opinion.col.model"), False),
            (t("opinion.col.holder"), False), (t("opinion.col.region"), False), (t("opinion.col.distance"), True),
            (t("opinion.col.share"), False), (t("opinion.col.status"), False), (t("opinion.col.hours"), True),
            (t("opinion.col.spare"), True), (t("opinion.col.load"), False), (t("opinion.col.score"), True),
            (t("opinion.col.reasons"), False)]
    rows = []
    for m in matches[:TOP_MATCHES]:
        load = _text(m.get("load"))
        reasons = _join([_label(t, f"dupcheck.reason.{r}", r) for r in m.get("reasons") or []], t)
        rows.append([(_or_missing(m.get("rank")), "num"), (_or_missing(m.get("name_zh")), ""),
                     (_or_missing(m.get("model")), ""), (_match_unit(m, t) or fmt.MISSING, ""),
                     (_match_region(m, t) or fmt.MISSING, ""), (_distance(m.get("distance_km")), "num"),
                     (t.enum("share_mode", _text(m.get("share_mode"))) or fmt.MISSING, ""),
                     (t.enum("status", _text(m.get("status"))) or fmt.MISSING, ""),
                     (_avg_hours(m, years_total, t), "num"), (_hours(m.get("spare_hours"), t), "num"),
                     (_label(t, f"dupcheck.load.{load}", load) if load else fmt.MISSING, ""),
                     (_score(m.get("score")), "num"), (reasons or fmt.MISSING, "")])
    more = len(matches) - TOP_MATCHES
    tail = (f'<p class="more">{_e(t("opinion.matches.more", count=more, shown=TOP_MATCHES))}</p>' if more > 0 else "")
    return _table(head, rows, css="matches") + tail


def _check_section(check: Mapping | None, t: Translator) -> str:
    title = f"<h2>{_e(t('opinion.section.check'))}</h2>"
    if check is None:
        return f'<section>{title}<p class="notice" data-no-check="1">{_e(t("opinion.check.none"))}</p></section>'
    parts = [title,
             f"<p>{_e(t('opinion.check.checked', time=_stored_time(check.get('checked_at'), t), by=_or_missing(check.get('checked_by'))))}</p>",
             f"<p>{_e(t('opinion.check.years', years=_years_text(check.get('years'), t)))}</p>"]
    if check.get("review_rules"):
        parts.append(f"<p>{_e(_rules_text(check['review_rules'], t))}</p>")
    vid = _text(check.get("verdict"))
    parts.append(f"<p>{_e(t('opinion.check.suggested'))} "
                 f'<span class="verdict {_e(vid)}" data-suggested="1">{_e(_label(t, f"dupcheck.verdict.{vid}", vid) if vid else fmt.MISSING)}</span></p>')
    parts.append(f"<h3>{_e(t('opinion.check.trace'))}</h3>{_trace(check, t)}")
    count = len(check.get("matches") or [])
    parts.append(f"<h3>{_e(t('opinion.matches.title', count=count))}</h3>{_matches_table(check, t)}")
    return "<section>" + "".join(parts) + "</section>"


# --------------------------------------------------------------------------- decisions


def decision_in_force(decisions: Sequence[Mapping]) -> Mapping | None:
    """The decision no other decision supersedes (the newest by id if the chain were ever
    forked), as `dashboard.purchases.current_decisions`; None when there is none."""
    if not decisions:
        return None
    frame = pd.DataFrame([{"id": int(d["id"]), "supersedes_id": None if _missing(d.get("supersedes_id"))
                           else int(d["supersedes_id"]), "request_id": 0} for d in decisions])
    frame["supersedes_id"] = frame["supersedes_id"].astype("Int64")
    live = P.current_decisions(frame)
    if live.empty:
        return None
    live_id = int(live["id"].iloc[0])
    return next(d for d in decisions if int(d["id"]) == live_id)


def _superseded_by(decision: Mapping, decisions: Sequence[Mapping]) -> int | None:
    later = [int(d["id"]) for d in decisions if _same_id(d.get("supersedes_id"), decision["id"])]
    return min(later) if later else None


def _decision_section(decisions: Sequence[Mapping], check: Mapping | None, t: Translator) -> str:
    title = f"<h2>{_e(t('opinion.section.decision'))}</h2>"
    current = decision_in_force(decisions)
    if current is None:
        return f'<section>{title}<p class="draft" data-draft="1">{_e(t("opinion.draft_notice"))}</p></section>'
    vid = _verdict_id(current.get("verdict"))
    verdict_row = (f"<tr><th>{_e(t('opinion.decision.verdict'))}</th><td>{_verdict_html(current.get('verdict'), t)}"
                   "</td></tr>")
    rows = [
        (t("opinion.decision.number"), t("opinion.decision.number_value", id=int(current["id"])), False),
        (t("opinion.decision.reasons"), _or_missing(current.get("reasons")), True),
        (t("opinion.decision.conditions"), _text(current.get("conditions")) or t("opinion.none"), True),
        (t("opinion.decision.reviewers"), _or_missing(current.get("reviewers")), False),
        (t("opinion.decision.decided_date"), _day(current.get("decided_date")), False),
        (t("opinion.decision.recorded"), _stored_time(current.get("created_at"), t), False),
    ]
    if not _missing(current.get("supersedes_id")):
        rows.append((t("opinion.decision.supersedes"),
                     t("opinion.decision.supersedes_value", id=int(current["supersedes_id"])), False))
    table = _fields(rows).replace("<tbody>", "<tbody>" + verdict_row, 1)
    parts = [title, f"<h3>{_e(t('opinion.decision.in_force'))}</h3>", f'<div data-in-force="{int(current["id"])}">{table}</div>']
    suggested = _text(check.get("verdict")) if check else ""
    if suggested in D.VERDICTS and vid and vid != suggested:
        parts.append(f'<p class="notice">{_e(t("opinion.decision.differs", suggested=t(f"dupcheck.verdict.{suggested}")))}</p>')
    history = sorted((d for d in decisions if int(d["id"]) != int(current["id"])), key=lambda d: -int(d["id"]))
    if history:
        head = [(t("opinion.decision.number"), False), (t("opinion.decision.verdict"), False),
                (t("opinion.decision.decided_date"), False), (t("opinion.decision.reviewers"), False),
                (t("opinion.decision.reasons"), False), (t("opinion.decision.conditions"), False),
                (t("opinion.history.state"), False)]
        rows_h = []
        for d in history:
            hv = _verdict_id(d.get("verdict"))
            by = _superseded_by(d, decisions)
            state = (t("opinion.history.superseded_by", id=by) if by is not None else t("opinion.history.not_in_force"))
            rows_h.append([(t("opinion.decision.number_value", id=int(d["id"])), ""),
                           (t(f"dupcheck.verdict.{hv}") if hv else _or_missing(d.get("verdict")), ""),
                           (_day(d.get("decided_date")), ""), (_or_missing(d.get("reviewers")), ""),
                           (_or_missing(d.get("reasons")), "text"),
                           (_text(d.get("conditions")) or t("opinion.none"), "text"), (state, "")])
        parts.append(f"<h3>{_e(t('opinion.history.title'))}</h3>{_table(head, rows_h, css='history')}")
    return "<section>" + "".join(parts) + "</section>"


# --------------------------------------------------------------------------- page


def _signature(t: Translator) -> str:
    cells = "".join(f"<div>{_e(t(f'opinion.sign.{k}'))}</div>" for k in ("leader", "date", "seal"))
    return f'<div class="sign">{cells}</div>'


def _footer(generated: str, t: Translator) -> str:
    items = "".join(f"<li>{_e(t(f'opinion.def.{d}'))}</li>" for d in DEFINITIONS)
    return (f"<footer><strong>{_e(t('opinion.definitions'))}</strong><ul>{items}</ul>"
            f"<p>{_e(t('opinion.footer', generated=generated))}</p></footer>")


def render_opinion(request: Mapping, check: Mapping | None, decisions: Sequence[Mapping], t: Translator, *,
                   demo: bool, generated_at: datetime | None = None) -> str:
    """The review opinion of one purchase request as one printable HTML page (see the module
    docstring)."""
    at = generated_at if generated_at is not None else datetime.now(timezone.utc)
    generated = beijing_time(at, t)
    title = t("opinion.title")
    decisions = sorted(decisions, key=lambda d: int(d["id"]))
    head = [f'<p class="kicker">{_e(t("opinion.kicker"))}</p>', f"<h1>{_e(title)}</h1>",
            f'<p class="meta">{_e(t("opinion.meta", request_no=_or_missing(request.get("request_no")), generated=generated))}</p>']
    if demo:
        head.append(f'<p class="notice" data-demo="1">{_e(t("opinion.demo_notice"))}</p>')
    if decision_in_force(decisions) is None:
        head.append(f'<p class="draft">{_e(t("opinion.draft_notice"))}</p>')
    body = ["<header>" + "".join(head) + "</header>", _request_section(request, check, t), _check_section(check, t),
            _decision_section(decisions, check, t), _signature(t), _footer(generated, t)]
    lang = "zh-CN" if t.lang == "zh" else t.lang
    page_title = f"{title} {_text(request.get('request_no'))}".strip()
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(page_title)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>")


__all__ = ["TOP_MATCHES", "beijing_time", "decision_in_force", "render_opinion"]
