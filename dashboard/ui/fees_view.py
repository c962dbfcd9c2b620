"""The fee calculator on the registry page: one instrument's cost price per machine hour beside
its listed fee (in the instrument detail), and the same calculation over a class of instruments.

The arithmetic is in dashboard.fees; this module reads the editable assumptions (number inputs
seeded from the policy defaults), and shapes the breakdown, comparison and class tables.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import fees as F
from dashboard import policy as P
from dashboard.i18n import Translator
from dashboard.national import WAN
from dashboard import formatting as fmt
from dashboard.ui.context import PageContext, widget_key
from dashboard.ui.labels import localised

PURPOSE_KEYS = {"通用": "general", "专用": "special"}

# Editable assumptions: (name, FeeInputs field, shown as percent, min, max, step).
COMPONENT_PARAMS = (
    ("years", "depreciation_years", False, 1.0, 50.0, 1.0),
    ("residual", "residual_share", True, 0.0, 95.0, 1.0),
    ("maintenance", "maintenance_share", True, 0.0, 50.0, 0.5),
    ("consumables", "consumables_per_hour", False, 0.0, 100_000.0, 10.0),
    ("staff", "staff_cost_per_year", False, 0.0, 10_000_000.0, 10_000.0),
    ("power", "power_kw", False, 0.0, 1_000.0, 0.5),
    ("price", "electricity_price", False, 0.0, 10.0, 0.05),
)
SOURCE_ROWS = ("years", "residual", "maintenance", "consumables", "staff", "power", "price", "rated", "band", "method")

VERDICT_COLOURS = {F.VERDICT_BELOW: "orange", F.VERDICT_AROUND: "green", F.VERDICT_ABOVE: "red",
                   F.VERDICT_NO_FEE: "gray", F.VERDICT_NO_COST: "gray"}


# ------------------------------------------------------------------------------ text helpers
def per_hour(value: float | None) -> str:
    """A CNY/h figure with two decimals: 204.057 -> '204.06'; None/NaN -> '—'."""
    return fmt.number(None if value is None or pd.isna(value) else float(value), 2)


def signed_per_hour(value: float | None) -> str:
    """A difference in CNY/h with its sign: '+95.94', '-20.00'."""
    if value is None or pd.isna(value):
        return fmt.MISSING
    return f"{value:+,.2f}"


def share_text(share: float) -> str:
    """0.06 -> '6%', 0.125 -> '12.5%'."""
    return f"{fmt.trimmed(share * 100, 2)}%"


def badge(label: str, colour: str) -> str:
    """Streamlit markdown of a coloured badge."""
    return f":{colour}-badge[{label}]"


def verdict_label(verdict: str, t: Translator) -> str:
    return t(f"fees.verdict.{verdict}")


def band_note(band: float, t: Translator) -> str:
    """How the verdict is decided, quoting the band in force."""
    return t("fees.verdict.note", low=share_text(1 - band), high=share_text(1 + band), band=share_text(band))


# ------------------------------------------------------------------------------ inputs
def _seeded(name: str, value) -> str:
    """The widget key of `name`, seeded with `value` on first use (no `value=` argument, so a
    kept or carried-over value is never fought by a default)."""
    key = widget_key(name)
    st.session_state.setdefault(key, value)
    return key


def _keep(names: list[str]) -> None:
    """Keep the values of inputs not drawn in this run (Streamlit would forget them)."""
    for name in names:
        key = widget_key(name)
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _number(col, name: str, label: str, default: float, lo: float, hi: float, step: float) -> float:
    # "%g" keeps 0.6 and 2.5 short but would write 1,000,000 as 1e+06: whole-yuan steps get "%.0f".
    number_format = "%.0f" if step >= 1000 else "%g"
    return float(col.number_input(label, min_value=lo, max_value=hi, step=step, format=number_format,
                                  key=_seeded(name, float(default))))


def component_inputs(section: str, t: Translator, defaults: F.FeeInputs = F.FeeInputs.from_policy()) -> dict:
    """The number inputs of the cost components (percent fields shown as %); FeeInputs fields."""
    values = {}
    cols = st.columns(4)
    for i, (name, field, percent, lo, hi, step) in enumerate(COMPONENT_PARAMS):
        default = getattr(defaults, field) * (100 if percent else 1)
        value = _number(cols[i % 4], f"fees_{section}_{name}", t(f"fees.param.{name}"), default, lo, hi, step)
        values[field] = value / 100 if percent else value
    return values


def band_input(section: str, t: Translator, col) -> float:
    """The ± band of "around cost", as a fraction."""
    return _number(col, f"fees_{section}_band", t("fees.param.band"), F.DEFAULT_AROUND_BAND * 100, 0.0, 100.0, 5.0) / 100


def basis_input(section: str, t: Translator, year: int | None, col=st) -> str:
    labels = {F.BASIS_RATED: t("fees.basis.rated"),
              F.BASIS_EFFECTIVE: t("fees.basis.effective", year=year) if year is not None else t("fees.basis.effective_no_year")}
    return col.radio(t("fees.basis.label"), list(labels), format_func=labels.get, horizontal=True,
                     key=_seeded(f"fees_{section}_basis", F.BASIS_RATED))


def sources_table(t: Translator, policy: P.PolicyDefaults = P.DEFAULTS) -> pd.DataFrame:
    """Parameter, default and source of every assumption (sources marked [I] are local choices)."""
    d = F.FeeInputs.from_policy(policy)
    defaults = {
        "years": fmt.trimmed(d.depreciation_years), "residual": share_text(d.residual_share),
        "maintenance": share_text(d.maintenance_share), "consumables": fmt.trimmed(d.consumables_per_hour),
        "staff": fmt.trimmed(d.staff_cost_per_year), "power": fmt.trimmed(d.power_kw),
        "price": fmt.trimmed(d.electricity_price),
        "rated": f"{fmt.trimmed(policy.rated_hours_general)} / {fmt.trimmed(policy.rated_hours_special)}",
        "band": f"±{share_text(F.DEFAULT_AROUND_BAND)}", "method": fmt.MISSING,
    }
    return pd.DataFrame({
        t("fees.sources.parameter"): [t(f"fees.sources.name.{k}") for k in SOURCE_ROWS],
        t("fees.sources.default"): [defaults[k] for k in SOURCE_ROWS],
        t("fees.sources.source"): [t(f"fees.sources.source.{k}") for k in SOURCE_ROWS],
    })


def read_detail_inputs(purpose: str, year: int | None, t: Translator) -> tuple[F.FeeInputs, float, float]:
    """Basis, rated hours of the instrument's purpose, cost components and band of the detail
    calculator; returns (inputs, rated hours, band)."""
    purpose_key = PURPOSE_KEYS.get(purpose, "special")
    _keep([f"fees_detail_rated_{k}" for k in PURPOSE_KEYS.values() if k != purpose_key])
    basis_col, rated_col, band_col = st.columns([2, 1, 1])
    basis = basis_input("detail", t, year, basis_col)
    rated = _number(rated_col, f"fees_detail_rated_{purpose_key}", t("fees.param.rated", purpose=t.enum("purpose", purpose)),
                    P.rated_hours(purpose), 1.0, 8760.0, 100.0)
    band = band_input("detail", t, band_col)
    with st.expander(t("fees.inputs.title"), icon=":material/tune:"):
        values = component_inputs("detail", t)
        st.table(sources_table(t), hide_index=True)
    return F.FeeInputs(**values, basis=basis, reference_year=year), rated, band


def read_class_inputs(year: int | None, t: Translator) -> tuple[F.FeeInputs, P.PolicyDefaults, float]:
    """Basis, rated hours (通用 / 专用), cost components and band of the class calculator."""
    basis_col, general_col, special_col, band_col = st.columns([2, 1, 1, 1])
    basis = basis_input("class", t, year, basis_col)
    general = _number(general_col, "fees_class_rated_general", t("fees.param.rated", purpose=t.enum("purpose", "通用")),
                      P.DEFAULTS.rated_hours_general, 1.0, 8760.0, 100.0)
    special = _number(special_col, "fees_class_rated_special", t("fees.param.rated", purpose=t.enum("purpose", "专用")),
                      P.DEFAULTS.rated_hours_special, 1.0, 8760.0, 100.0)
    band = band_input("class", t, band_col)
    with st.expander(t("fees.inputs.title"), icon=":material/tune:"):
        values = component_inputs("class", t)
        st.table(sources_table(t), hide_index=True)
    policy = replace(P.DEFAULTS, rated_hours_general=general, rated_hours_special=special)
    return F.FeeInputs(**values, basis=basis, reference_year=year), policy, band


# ------------------------------------------------------------------------------ one instrument
def depreciation_formula(b: F.FeeBreakdown, value_cny: float, inputs: F.FeeInputs, t: Translator) -> str:
    """The depreciation row's formula, with the age test of the reference year: fully depreciated
    (0), the last, partial year of a fractional life, inside the service life, or age unknown
    (no start date / no year: charged in full)."""
    years = fmt.trimmed(inputs.depreciation_years)
    formula = t("fees.formula.depreciation", value=fmt.trimmed(value_cny), residual=share_text(inputs.residual_share),
                years=years, hours=fmt.trimmed(b.divisor_hours))
    if inputs.reference_year is None:
        return t("fees.formula.depreciation_no_year", formula=formula)
    if b.years_in_service is None:
        return t("fees.formula.depreciation_no_start", formula=formula)
    if b.fully_depreciated:
        return t("fees.formula.depreciation_done", year=inputs.reference_year, age=b.years_in_service, years=years)
    if b.depreciation_share < 1:
        return t("fees.formula.depreciation_last", formula=formula, year=inputs.reference_year, age=b.years_in_service,
                 years=years, share=fmt.trimmed(b.depreciation_share, 2))
    return t("fees.formula.depreciation_in_life", formula=formula, year=inputs.reference_year, age=b.years_in_service,
             years=years)


def breakdown_table(b: F.FeeBreakdown, value_cny: float, inputs: F.FeeInputs, t: Translator) -> pd.DataFrame:
    """Component, formula with the numbers used, and CNY/h; the total last."""
    hours = fmt.trimmed(b.divisor_hours)
    value = fmt.trimmed(value_cny)
    formulas = {
        "depreciation": depreciation_formula(b, value_cny, inputs, t),
        "maintenance": t("fees.formula.maintenance", value=value, share=share_text(inputs.maintenance_share), hours=hours),
        "staff": t("fees.formula.staff", staff=fmt.trimmed(inputs.staff_cost_per_year), hours=hours),
        "consumables": t("fees.formula.consumables", consumables=fmt.trimmed(inputs.consumables_per_hour)),
        "energy": t("fees.formula.energy", power=fmt.trimmed(inputs.power_kw), price=fmt.trimmed(inputs.electricity_price)),
    }
    rows = [(t(f"fees.component.{k}"), formulas[k], per_hour(v)) for k, v in b.components().items()]
    rows.append((t("fees.component.total"), t("fees.formula.total"), per_hour(b.total)))
    return pd.DataFrame(rows, columns=[t("fees.breakdown.component"), t("fees.breakdown.formula"), t("fees.breakdown.per_hour")])


def other_basis_note(value_cny: float, inputs: F.FeeInputs, rated: float, effective: float, shown: F.FeeBreakdown,
                     year: int | None, t: Translator, start_date=None) -> str | None:
    """What the cost price would be on the other divisor basis (how low use raises the price);
    None when the other basis has no hours."""
    other = replace(inputs, basis=F.BASIS_EFFECTIVE if inputs.basis == F.BASIS_RATED else F.BASIS_RATED)
    try:
        alt = F.hourly_cost(value_cny, other, rated, effective, start_date)
    except F.NoHoursError:
        return None
    factor = fmt.trimmed(alt.total / shown.total, 2) if shown.total > 0 else fmt.MISSING
    key = "fees.other.effective" if other.basis == F.BASIS_EFFECTIVE else "fees.other.rated"
    return t(key, year=year, hours=fmt.trimmed(alt.divisor_hours), cost=per_hour(alt.total), factor=factor)


def no_hours_message(year: int | None, t: Translator) -> str:
    return t("fees.no_hours", year=year) if year is not None else t("fees.no_hours_no_year")


def show_instrument_fees(row: pd.Series, monthly: pd.DataFrame, ctx: PageContext) -> None:
    """The fee section of the instrument detail: assumptions, breakdown and the comparison with
    the listed fee."""
    t = ctx.t
    st.markdown(f"**{t('fees.detail.title')}**")
    st.caption(t("fees.detail.intro"))
    inputs, rated, band = read_detail_inputs(row["purpose"], ctx.year, t)
    effective = F.effective_hours_of_year(monthly, ctx.year)
    value = float(row["original_value"])
    try:
        b = F.hourly_cost(value, inputs, rated, effective, row.get("start_date"))
    except F.NoHoursError:
        st.warning(no_hours_message(ctx.year, t), icon=":material/hourglass_empty:")
        b = None
    if b is not None:
        st.table(breakdown_table(b, value, inputs, t), hide_index=True)
        note = other_basis_note(value, inputs, rated, effective, b, ctx.year, t, row.get("start_date"))
        if note:
            st.caption(note)
    show_comparison(row.get("fee_standard"), b.total if b else None, band, t)


def show_comparison(fee_text, cost: float | None, band: float, t: Translator) -> None:
    c = F.compare(fee_text, cost, band)
    listed = c.listed
    if listed is None:
        listed_text = t("fees.listed.none")
    elif listed.low == listed.high:
        listed_text = per_hour(listed.low)
    else:
        listed_text = t("fees.listed.range", low=per_hour(listed.low), high=per_hour(listed.high))
    cols = st.columns(4)
    cols[0].metric(t("fees.metric.cost"), per_hour(cost))
    cols[1].metric(t("fees.metric.listed"), listed_text)
    cols[2].metric(t("fees.metric.difference"), signed_per_hour(c.difference))
    cols[3].metric(t("fees.metric.ratio"), fmt.percent(c.ratio))
    verdict_text = badge(verdict_label(c.verdict, t), VERDICT_COLOURS[c.verdict])
    st.markdown(t("fees.verdict.line", verdict=verdict_text))
    text = "" if fee_text is None or pd.isna(fee_text) else str(fee_text).strip()
    st.caption(t("fees.listed.text", text=text) if text else t("fees.listed.empty"))
    st.caption(band_note(band, t))


# ------------------------------------------------------------------------------ a class
def class_label(code: str, classes: pd.DataFrame, lang: str) -> str:
    names = dict(zip(classes["code"], localised(classes, "name_zh", "name_en", lang)))
    return f"{code} {names.get(code, '')}".strip()


def choose_class(annual: pd.DataFrame, classes: pd.DataFrame, t: Translator) -> str:
    """A top (2-digit) or middle (4-digit) class among the instruments in the register."""
    codes = F.class_codes(annual)
    labels = {c: ("" if len(c) == 2 else "\u2003") + class_label(c, classes, t.lang) for c in codes}
    return st.selectbox(t("fees.class.choose"), codes, format_func=labels.get, key=_seeded("fees_class_code", codes[0]))


def age_header(year: int | None, t: Translator) -> str:
    return t("fees.col.age", year=year) if year is not None else t("fees.col.age_no_year")


def class_table(frame: pd.DataFrame, year: int | None, t: Translator) -> pd.DataFrame:
    """The class's instruments with value, hours, cost price, listed fee and verdict, most costly
    hour first (instruments without a cost price last)."""
    ordered = frame.sort_values("cost_per_hour", ascending=False, na_position="last", kind="stable")
    effective_header = t("fees.col.effective", year=year) if year is not None else t("fees.col.effective_no_year")
    age = age_header(year, t)
    # The figures the section is about come first, so they stay in view in a narrow window.
    return pd.DataFrame({
        t("fees.col.inner_id"): ordered["inner_id"].values,
        t("fees.col.name"): localised(ordered, "name_zh", "name_en", t.lang).values,
        t("fees.col.cost"): ordered["cost_per_hour"].round(2).values,
        t("fees.col.listed"): ordered["listed_per_hour"].round(2).values,
        t("fees.col.ratio"): (ordered["ratio"] * 100).round(1).values,
        t("fees.col.verdict"): ordered["verdict"].map(lambda v: verdict_label(v, t)).values,
        t("fees.col.value_wan"): (ordered["original_value"].astype(float) / WAN).values,
        age: ordered["years_in_service"].astype(float).values,
        t("fees.col.fully"): ordered["fully_depreciated"].astype(bool).values,
        t("fees.col.purpose"): ordered["purpose"].map(lambda v: t.enum("purpose", v)).values,
        t("fees.col.rated"): ordered["rated_hours"].values,
        effective_header: ordered["effective_hours"].astype(float).values if "effective_hours" in ordered else np.nan,
        t("fees.col.unit"): localised(ordered, "unit_name", "unit_name_en", t.lang).values,
    })


def summary_table(frame: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Median, lowest and highest cost price and listed fee of the class (CNY/h, as text)."""
    s = F.summary(frame)
    return pd.DataFrame({
        t("fees.summary.measure"): [t(f"fees.summary.{m}") for m in s.index],
        t("fees.summary.count"): s["count"].map(fmt.number).values,
        t("fees.summary.median"): s["median"].map(per_hour).values,
        t("fees.summary.min"): s["min"].map(per_hour).values,
        t("fees.summary.max"): s["max"].map(per_hour).values,
    })


def depreciation_note(frame: pd.DataFrame, inputs: F.FeeInputs, t: Translator) -> str:
    """How many instruments of the class are fully depreciated in the reference year (their
    depreciation counts 0), and how many have no start date (charged in full)."""
    years = fmt.trimmed(inputs.depreciation_years)
    if inputs.reference_year is None:
        return t("fees.class.depreciation_no_year", years=years)
    unknown = int(frame["years_in_service"].isna().sum())
    text = t("fees.class.depreciation", year=inputs.reference_year, years=years,
             n=int(frame["fully_depreciated"].sum()))
    return text + (t("fees.class.depreciation_no_start", n=unknown) if unknown else "")


def verdict_line(frame: pd.DataFrame, t: Translator) -> str:
    counts = F.verdict_counts(frame)
    return t("fees.class.verdicts", **counts)


def show_class_result(frame: pd.DataFrame, code: str, classes: pd.DataFrame, ctx: PageContext, band: float,
                      inputs: F.FeeInputs) -> None:
    t = ctx.t
    st.markdown(t("fees.class.count", name=class_label(code, classes, t.lang), n=len(frame)))
    if inputs.basis == F.BASIS_EFFECTIVE and (frame["divisor_hours"] <= 0).any():
        st.caption(t("fees.class.no_hours_rows", n=int((frame["divisor_hours"] <= 0).sum())))
    st.caption(depreciation_note(frame, inputs, t))
    st.table(summary_table(frame, t), hide_index=True)
    st.markdown(verdict_line(frame, t))
    st.caption(band_note(band, t))
    st.dataframe(
        class_table(frame, ctx.year, t), hide_index=True, width="stretch", placeholder=fmt.MISSING,
        column_config={
            t("fees.col.inner_id"): st.column_config.TextColumn(pinned=True),
            t("fees.col.value_wan"): st.column_config.NumberColumn(format="%.2f"),
            age_header(ctx.year, t): st.column_config.NumberColumn(format="%.0f"),
            t("fees.col.fully"): st.column_config.CheckboxColumn(),
            t("fees.col.rated"): st.column_config.NumberColumn(format="%.0f"),
            t("fees.col.cost"): st.column_config.NumberColumn(format="%.2f"),
            t("fees.col.listed"): st.column_config.NumberColumn(format="%.2f"),
            t("fees.col.ratio"): st.column_config.NumberColumn(format="%.1f%%"),
        },
    )
