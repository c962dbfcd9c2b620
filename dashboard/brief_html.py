"""The one-page meeting brief of a scenario, or of a comparison of scenarios with a baseline.

`render_brief(subject, t, meta)` returns a self-contained HTML page to print on A4: the style
sheet is inline, there is no script, no image and no link, so it makes no request of any kind.
Every text comes from the catalogues (scenarios.json, plus format.* and pub.grade.* for money and
grade labels); every text from the store or the user (scenario names, notes, unit names) is
escaped. Chinese is the default language (`t` decides).

Contents: scenario name(s) and note(s); the key parameters (year, weights, grade lines, reward
pool, eligibility, basis and cap, sanction switches, voucher ratio, caps, pool and holders' share);
the headline consequences (total fiscal cost, rewards, vouchers, sanctions count, units per
grade); for a comparison the largest changes against the baseline per scenario, for a single
scenario the units receiving the most and the sanctioned units; the definitions of the figures; a
demo-data notice when the store holds demo data; the generation time in Beijing time.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import formatting as fmt
from dashboard import sanctions as S
from dashboard.i18n import Translator
from dashboard.publication import grade_label
from dashboard.scenarios import BASELINE, MONEY_FIGURES, Comparison, ScenarioOutcome

BEIJING = ZoneInfo("Asia/Shanghai")
TOP_UNITS = 8  # rows of a unit list in the brief; the rest is counted, not listed
TOP_CHANGES = 8
HEADLINE_CARDS = ("fiscal_cost_cny", "reward_paid_cny", "reward_unspent_cny", "voucher_spend_cny",
                  "voucher_post_subsidy_cny", "sanctioned_units")
COMPARISON_FIGURES = ("fiscal_cost_cny", "reward_pool_cny", "reward_paid_cny", "reward_unspent_cny",
                      "rewarded_units", "voucher_spend_cny", "voucher_post_subsidy_cny",
                      "voucher_post_subsidy_withheld_cny", "firms_served", "sanctioned_units",
                      "excluded_units", "units_excellent", "units_good", "units_pass", "units_fourth")
DEFINITIONS = ("fiscal_cost", "money", "reward", "vouchers", "sanctions")

CSS = """
* { box-sizing: border-box; }
html { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1d2430; font-size: 13px; line-height: 1.45; }
html:lang(en) { font-family: "Noto Sans", "Liberation Sans", Arial, "Noto Sans CJK SC", sans-serif; }
body { margin: 0 auto; max-width: 190mm; padding: 12px 16px; background: #fff; }
.kicker { color: #5b6675; margin: 0; font-size: .85rem; letter-spacing: .03em; }
h1 { font-size: 1.45rem; margin: .15rem 0 .25rem; line-height: 1.25; }
h2 { font-size: 1.02rem; margin: .8rem 0 .3rem; border-bottom: 2px solid #1f6f8b; padding-bottom: .1rem; }
h3 { font-size: .92rem; margin: .5rem 0 .2rem; color: #1f6f8b; }
p { margin: .2rem 0; }
.meta { color: #5b6675; font-size: .85rem; }
.note { margin: .25rem 0; padding: .25rem .5rem; border-left: 3px solid #1f6f8b; background: #eef4f7; }
.notice { border: 1px solid #e0b252; background: #fdf6e3; padding: .3rem .6rem; border-radius: 3px; margin: .4rem 0; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin: .3rem 0; }
.card { border: 1px solid #d5dbe3; border-radius: 4px; padding: .3rem .5rem; background: #eef4f7; }
.card .label { font-size: .78rem; color: #5b6675; }
.card .value { font-size: 1.15rem; font-weight: 700; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; margin: .2rem 0; font-size: .8rem; }
th, td { border: 1px solid #d5dbe3; padding: .15rem .35rem; vertical-align: top; text-align: left; }
thead th { background: #eef4f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.diff { background: #fff4d6; }
table.narrow { width: auto; min-width: 40%; }
td.up { color: #1b6e3a; } td.down { color: #b03a2e; }
.more { font-size: .75rem; color: #5b6675; }
footer { margin-top: .6rem; font-size: .72rem; color: #5b6675; border-top: 1px solid #d5dbe3; padding-top: .25rem; }
footer ul { margin: .1rem 0; padding-left: 1.1rem; }
@page { size: A4; margin: 10mm 11mm; }
@media print { html { font-size: 11px; } body { max-width: none; padding: 0; } h2, h3 { break-after: avoid; }
  table, .cards, .notice { break-inside: avoid; } thead { display: table-header-group; } tr { break-inside: avoid; }
  .card, .note, .notice, thead th, td.diff { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


@dataclass(frozen=True)
class BriefMeta:
    """Facts printed on the brief that the outcome does not carry.

    generated_at  when the brief is made (aware; a naive time is taken as the machine's local time)
    name, note    the scenario's name and note (single scenario; name defaults to outcome.name)
    notes         comparison: note per scenario name (BASELINE for the baseline)
    scenario_ids  ids of the saved scenarios shown (printed so a reader can open them again)
    demo_seed     the demo generator's seed when the store holds demo data (prints a notice)
    """

    generated_at: datetime
    name: str = ""
    note: str = ""
    notes: Mapping[str, str] = field(default_factory=dict)
    scenario_ids: tuple[int, ...] = ()
    demo_seed: str | None = None


# --------------------------------------------------------------------------- small helpers


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def beijing_time(at: datetime, t: Translator) -> str:
    return t("scenarios.brief.beijing_time", time=at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"))


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA


def _figure(key: str, value, t: Translator) -> str:
    if _missing(value):
        return t("scenarios.param.unlimited") if key == "voucher_pool_cny" else fmt.MISSING
    return fmt.money(float(value), t) if key in MONEY_FIGURES else fmt.number(float(value))


def _delta_text(value, money: bool, t: Translator, coloured: bool = False) -> tuple[str, str]:
    """(text, css class) of a change: signed; coloured (gain green, loss red) on request."""
    if _missing(value):
        return fmt.MISSING, ""
    v = float(value)
    if v == 0:
        return "0", ""
    body = fmt.money(abs(v), t) if money else fmt.number(abs(v))
    return ("+" if v > 0 else "−") + body, (("up" if v > 0 else "down") if coloured else "")


def _unit_name(row, t: Translator) -> str:
    en = getattr(row, "name_en", "") if not isinstance(row, Mapping) else row.get("name_en", "")
    zh = getattr(row, "name", "") if not isinstance(row, Mapping) else row.get("name", "")
    en = en if isinstance(en, str) else ""
    zh = zh if isinstance(zh, str) else ""
    return en if t.lang == "en" and en.strip() else (zh or str(getattr(row, "unit_id", "")))


def _grade(g, t: Translator) -> str:
    if not isinstance(g, str) or not g:
        return t("scenarios.brief.grade_none")
    return grade_label(g, t)


def _share(x: float) -> str:
    return fmt.trimmed(float(x) * 100, 1) + "%"


def _join(items, t: Translator) -> str:
    return t("scenarios.brief.list_separator").join(items)


def _rules_text(rules, t: Translator) -> str:
    return _join([t(f"scenarios.rule.{r}") for r in rules], t)


def _table(head: list[tuple[str, bool]], rows: list[list[tuple[str, str]]], css: str = "") -> str:
    """head: (text, numeric); rows: cells (text, css class). Texts are escaped here."""
    th = "".join(f'<th class="num">{_e(h)}</th>' if num else f"<th>{_e(h)}</th>" for h, num in head)
    body = "".join("<tr>" + "".join(f'<td class="{c}">{_e(v)}</td>' if c else f"<td>{_e(v)}</td>"
                                    for v, c in row) + "</tr>" for row in rows)
    cls = f' class="{css}"' if css else ""
    return f"<table{cls}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


# --------------------------------------------------------------------------- parameters


def _grade_rule_text(o: ScenarioOutcome, t: Translator) -> str:
    rule = o.grade_rule()
    g = [grade_label(x, t) for x in rule.labels()]
    if rule.mode == "bands":
        b = [fmt.trimmed(x, 1) for x in rule.bands]
        return t("scenarios.param.grade_bands", g1=g[0], g2=g[1], g3=g[2], g4=g[3], b1=b[0], b2=b[1], b3=b[2])
    return t("scenarios.param.grade_quotas", g1=g[0], g2=g[1], g4=g[3], q1=_share(rule.quotas[0]),
             q2=_share(rule.quotas[1]), pass_score=fmt.trimmed(rule.pass_score, 1))


def _eligibility_text(o: ScenarioOutcome, t: Translator) -> str:
    r = o.params.reward
    parts = [t("scenarios.param.eligible_grades", grades=_join([grade_label(g, t) for g in r.eligible_grades], t))
             if r.eligible_grades else t("scenarios.param.any_grade")]
    if r.min_score is not None:
        parts.append(t("scenarios.param.min_score", score=fmt.trimmed(r.min_score, 1)))
    return t("scenarios.brief.list_separator").join(parts)


def _cap_text(o: ScenarioOutcome, t: Translator) -> str:
    r = o.params.reward
    if r.cap_cny is not None and r.cap_share_of_external_income is not None:
        return t("scenarios.param.cap_both", amount=fmt.money(r.cap_cny, t), share=_share(r.cap_share_of_external_income))
    if r.cap_cny is not None:
        return t("scenarios.param.cap_cny", amount=fmt.money(r.cap_cny, t))
    if r.cap_share_of_external_income is not None:
        return t("scenarios.param.cap_share", share=_share(r.cap_share_of_external_income))
    return t("scenarios.param.no_cap")


def _sanctions_text(o: ScenarioOutcome, t: Translator) -> str:
    rules = o.params.sanctions
    if rules is None:
        return t("scenarios.param.sanctions_off")
    on = rules.enabled_rules()
    return _rules_text(on, t) if on else t("scenarios.param.sanctions_none_on")


def _cap_or_unlimited(v, t: Translator) -> str:
    return t("scenarios.param.unlimited") if v is None else fmt.money(v, t)


def _param_rows(outcomes: list[ScenarioOutcome], t: Translator) -> list[tuple[str, list[str]]]:
    """(label, value per outcome) for the key parameters."""
    def row(key, fn):
        return (t(f"scenarios.param.{key}"), [fn(o) for o in outcomes])

    rows = [
        row("year", lambda o: str(o.year)),
        row("weights", lambda o: t("scenarios.param.weights_default") if o.params.weights is None
            else t("scenarios.param.weights_changed", count=len(o.params.weights))),
        row("grade_rule", lambda o: _grade_rule_text(o, t)),
        row("reward_pool", lambda o: fmt.money(o.params.reward.pool_cny, t)),
        row("reward_eligibility", lambda o: _eligibility_text(o, t)),
        row("reward_basis", lambda o: t(f"scenarios.param.basis.{o.params.reward.basis}")),
        row("reward_cap", lambda o: _cap_text(o, t)),
        row("sanctions", lambda o: _sanctions_text(o, t)),
    ]
    off = t("scenarios.param.vouchers_off")
    if all(o.params.vouchers is None for o in outcomes):
        rows.append(row("vouchers", lambda o: off))
        return rows

    def v(fn):
        return lambda o: off if o.params.vouchers is None else fn(o.params.vouchers)

    rows += [
        row("voucher_ratio", v(lambda p: _share(p.voucher_ratio))),
        row("voucher_limits", v(lambda p: t("scenarios.param.voucher_limits_text",
                                            per_application=_cap_or_unlimited(p.per_application_cap_cny, t),
                                            per_firm=_cap_or_unlimited(p.per_firm_annual_cap_cny, t),
                                            pool=_cap_or_unlimited(p.pool_cny, t),
                                            share=_share(p.holder_redemption_share)))),
    ]
    if any(o.params.vouchers is not None and o.params.vouchers.demand_uplift > 0 for o in outcomes):
        rows.append(row("demand_uplift", v(lambda p: _share(p.demand_uplift))))
    return rows


# --------------------------------------------------------------------------- sections


def _header(title: str, year_text: str, meta: BriefMeta, notes: list[tuple[str, str]], t: Translator) -> str:
    parts = [f'<p class="kicker">{_e(t("scenarios.brief.kicker"))}</p>', f"<h1>{_e(title)}</h1>",
             f'<p class="meta">{_e(t("scenarios.brief.meta", year=year_text, generated=beijing_time(meta.generated_at, t)))}']
    if meta.scenario_ids:
        parts.append(" · " + _e(t("scenarios.brief.meta_id", ids=", ".join(str(i) for i in meta.scenario_ids))))
    parts.append("</p>")
    if meta.demo_seed is not None:
        parts.append(f'<p class="notice" data-demo="1">{_e(t("scenarios.brief.demo_notice", seed=meta.demo_seed))}</p>')
    for label, note in notes:
        if note and note.strip():
            text = t("scenarios.brief.note", note=note.strip())
            parts.append(f'<p class="note">{_e(label + " · " if label else "")}{_e(text)}</p>')
    return "<header>" + "".join(parts) + "</header>"


def _cards(o: ScenarioOutcome, t: Translator) -> str:
    cards = "".join(f'<div class="card"><div class="label">{_e(t(f"scenarios.fig.{k}"))}</div>'
                    f'<div class="value">{_e(_figure(k, o.totals[k], t))}</div></div>' for k in HEADLINE_CARDS)
    return f'<div class="cards">{cards}</div>'


def _grades_table(o: ScenarioOutcome, t: Translator) -> str:
    head = [(t("scenarios.brief.col.grade"), False), (t("scenarios.brief.col.value"), True)]
    keys = ("units_excellent", "units_good", "units_pass", "units_fourth")
    rows = [[(grade_label(label, t), ""), (fmt.number(o.totals[k]), "num")] for k, label in zip(keys, o.grade_labels)]
    rows.append([(t("scenarios.fig.rated_units"), ""), (fmt.number(o.totals["rated_units"]), "num")])
    return _table(head, rows, css="narrow")


def _top_units(o: ScenarioOutcome, t: Translator) -> str:
    units = o.units[o.units["total_cny"] > 0].sort_values(["total_cny", "unit_id"], ascending=[False, True],
                                                           kind="stable")
    if units.empty:
        return f"<p>{_e(t('scenarios.brief.none_rewarded'))}</p>"
    head = [(t("scenarios.brief.col.unit"), False), (t("scenarios.brief.col.grade"), False),
            (t("scenarios.brief.col.score"), True), (t("scenarios.brief.col.reward"), True),
            (t("scenarios.brief.col.post_subsidy"), True), (t("scenarios.brief.col.money"), True)]
    rows = [[(_unit_name(r, t), ""), (_grade(r.grade, t), ""), (fmt.number(r.score, 1), "num"),
             (fmt.money(r.reward_cny, t), "num"), (fmt.money(r.post_subsidy_cny, t), "num"),
             (fmt.money(r.total_cny, t), "num")] for r in units.head(TOP_UNITS).itertuples(index=False)]
    more = len(units) - TOP_UNITS
    tail = f'<p class="more">{_e(t("scenarios.brief.more_units", count=more))}</p>' if more > 0 else ""
    return _table(head, rows) + tail


def _sanctioned(o: ScenarioOutcome, t: Translator) -> str:
    if o.sanctions is None or o.sanctions.by_unit.empty:
        return f"<p>{_e(t('scenarios.brief.none_sanctioned'))}</p>"
    by_unit = o.sanctions.by_unit
    grades = o.units.set_index("unit_id")["grade"]
    head = [(t("scenarios.brief.col.unit"), False), (t("scenarios.brief.col.grade"), False),
            (t("scenarios.brief.col.rules"), False), (t("scenarios.brief.col.consequences"), False)]
    rows = []
    for r in by_unit.head(TOP_UNITS).itertuples(index=False):
        name = _unit_name(r, t) if (r.name or r.name_en) else _unit_name(
            o.units.set_index("unit_id").loc[r.unit_id].to_dict(), t)
        rows.append([(name, ""), (_grade(grades.get(r.unit_id), t), ""), (_rules_text(r.rules, t), ""),
                     (_join([t(f"scenarios.consequence.{c}") for c in r.consequences if c in S.CONSEQUENCE_IDS], t), "")])
    more = len(by_unit) - TOP_UNITS
    tail = f'<p class="more">{_e(t("scenarios.brief.more_units", count=more))}</p>' if more > 0 else ""
    return _table(head, rows) + tail


def _definitions(t: Translator) -> str:
    items = "".join(f"<li>{_e(t(f'scenarios.def.{d}'))}</li>" for d in DEFINITIONS)
    return f"<footer><strong>{_e(t('scenarios.brief.section.definitions'))}</strong><ul>{items}</ul></footer>"


def _page(title: str, body: str, t: Translator) -> str:
    lang = "zh-CN" if t.lang == "zh" else t.lang
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>{body}</body></html>")


# --------------------------------------------------------------------------- single scenario


def _render_outcome(o: ScenarioOutcome, t: Translator, meta: BriefMeta) -> str:
    name = meta.name or o.name or t("scenarios.brief.unnamed")
    title = t("scenarios.brief.title_scenario", name=name)
    params = _table([(t("scenarios.brief.col.parameter"), False), (t("scenarios.brief.col.value"), False)],
                    [[(label, ""), (values[0], "")] for label, values in _param_rows([o], t)])
    body = [
        _header(title, str(o.year), meta, [("", meta.note)], t),
        f"<section><h2>{_e(t('scenarios.brief.section.params'))}</h2>{params}</section>",
        f"<section><h2>{_e(t('scenarios.brief.section.headline'))}</h2>{_cards(o, t)}",
        f"<h3>{_e(t('scenarios.brief.section.grades'))}</h3>{_grades_table(o, t)}</section>",
        f"<section><h2>{_e(t('scenarios.brief.section.units'))}</h2>{_top_units(o, t)}",
        f"<h3>{_e(t('scenarios.brief.section.sanctioned'))}</h3>{_sanctioned(o, t)}</section>",
        _definitions(t),
    ]
    return _page(title, "".join(body), t)


# --------------------------------------------------------------------------- comparison


def _column_names(c: Comparison, t: Translator) -> list[str]:
    base = c.baseline.name
    first = t("scenarios.brief.baseline_named", name=base) if base else t("scenarios.brief.baseline")
    return [first] + list(c.names)


def _sanction_change_text(r, t: Translator) -> str:
    if r.sanction_change == "new":
        return t("scenarios.brief.sanction_change.new", rules=_rules_text(r.rules_after, t))
    if r.sanction_change == "lifted":
        return t("scenarios.brief.sanction_change.lifted")
    if r.sanction_change == "rules":
        return t("scenarios.brief.sanction_change.rules", rules=_rules_text(r.rules_after, t))
    return ""


def _changes(c: Comparison, name: str, t: Translator) -> str:
    rows_all = c.changes_for(name)
    title = f"<h3>{_e(t('scenarios.brief.changes_of', name=name))}</h3>"
    if rows_all.empty:
        return title + f"<p>{_e(t('scenarios.brief.no_changes'))}</p>"
    head = [(t("scenarios.brief.col.unit"), False), (t("scenarios.brief.col.grade"), False),
            (t("scenarios.brief.col.money_change"), True), (t("scenarios.brief.col.money"), True),
            (t("scenarios.brief.col.sanction"), False)]
    rows = []
    for r in rows_all.head(TOP_CHANGES).itertuples(index=False):
        grade = (t("scenarios.brief.grade_change", before=_grade(r.grade_before, t), after=_grade(r.grade_after, t))
                 if r.grade_changed else _grade(r.grade_after, t))
        change, css = _delta_text(r.money_change, True, t, coloured=True)
        rows.append([(_unit_name(r, t), ""), (grade, "diff" if r.grade_changed else ""),
                     (change, f"num {css}".strip()), (fmt.money(r.money_after, t), "num"),
                     (_sanction_change_text(r, t), "diff" if r.sanction_change else "")])
    more = len(rows_all) - TOP_CHANGES
    tail = f'<p class="more">{_e(t("scenarios.brief.more_changes", count=more))}</p>' if more > 0 else ""
    return title + _table(head, rows) + tail


def _render_comparison(c: Comparison, t: Translator, meta: BriefMeta) -> str:
    columns = _column_names(c, t)
    outcomes = [c.baseline] + [c.outcomes[n] for n in c.names]
    title = t("scenarios.brief.title_comparison",
              names=t("scenarios.brief.name_separator").join(c.names) or columns[0])
    years = sorted({o.year for o in outcomes})
    notes = [(columns[0], meta.notes.get(BASELINE, ""))] + [(n, meta.notes.get(n, "")) for n in c.names]

    param_rows = []
    for label, values in _param_rows(outcomes, t):
        cells = [(label, ""), (values[0], "")]
        cells += [(v, "diff" if v != values[0] else "") for v in values[1:]]
        param_rows.append(cells)
    params = _table([(t("scenarios.brief.col.parameter"), False)] + [(n, False) for n in columns], param_rows)

    head = [(t("scenarios.brief.col.figure"), False), (columns[0], True)]
    for n in c.names:
        head += [(n, True), (t("scenarios.brief.col.delta"), True)]
    fig_rows = []
    for key in COMPARISON_FIGURES:
        cells = [(t(f"scenarios.fig.{key}"), ""), (_figure(key, c.summary.at[key, BASELINE], t), "num")]
        for n in c.names:
            d, css = _delta_text(c.deltas.at[key, n], key in MONEY_FIGURES, t)
            cells += [(_figure(key, c.summary.at[key, n], t), "num"), (d, f"num {css}".strip())]
        fig_rows.append(cells)
    figures = _table(head, fig_rows)

    body = [
        _header(title, _join([str(y) for y in years], t), meta, notes, t),
        f"<section><h2>{_e(t('scenarios.brief.section.params'))}</h2>{params}</section>",
        f"<section><h2>{_e(t('scenarios.brief.section.headline'))}</h2>{figures}</section>",
        f"<section><h2>{_e(t('scenarios.brief.section.changes'))}</h2>"
        + "".join(_changes(c, n, t) for n in c.names) + "</section>",
        _definitions(t),
    ]
    return _page(title, "".join(body), t)


def render_brief(subject: ScenarioOutcome | Comparison, t: Translator, meta: BriefMeta) -> str:
    """The meeting brief of one scenario outcome or of a comparison, as one HTML page."""
    if isinstance(subject, Comparison):
        return _render_comparison(subject, t, meta)
    if isinstance(subject, ScenarioOutcome):
        return _render_outcome(subject, t, meta)
    raise TypeError(f"render_brief needs a ScenarioOutcome or a Comparison, got {type(subject).__name__}")


__all__ = ["BriefMeta", "COMPARISON_FIGURES", "HEADLINE_CARDS", "beijing_time", "render_brief"]
