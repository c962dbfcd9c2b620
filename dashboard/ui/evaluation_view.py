"""What the evaluation page shows, shaped for display, and the widgets that drive it.

The first half holds pure frame builders (results in, labelled frames out, no st.* call) so their
output can be checked by hand; the numbers themselves come from dashboard.scoring and
dashboard.weighting. The second half holds the Streamlit helpers: the cached indicator table, the
weight and method controls, and the ranking, robustness and publication sections.

Weights flow: every control is read into an effective `Scheme` (group and indicator weights,
aggregation, grading, normalisation methods) plus, for entropy / CRITIC / blend, an override vector
of global weights; `scoring.evaluate` then re-scores the small unit × indicator matrix. Only the
indicator table (the store read) is cached, per year and data revision, so a weight change costs
one pass over that matrix.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from fractions import Fraction

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import evaluation, indicators, publication, scoring, weighting
from dashboard.i18n import Translator
from dashboard.scheme import AGGREGATIONS, GRADE_MODES, GROUP_IDS, METHODS, GradeRule, Scheme, SchemeError
from dashboard.ui import charts
from dashboard.ui import format as fmt
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.labels import localised
from models import db
from models import evaluations as E

# ------------------------------------------------------------------------------------ constants
WEIGHT_METHODS = ("direct", "ahp", "entropy", "critic", "blend")
SUBJECTIVE = ("direct", "ahp")
OBJECTIVE = ("entropy", "critic")
FOURTH_LABELS = ("较差", "不合格")  # national name / Inner Mongolia name of the fourth grade
MC_SEED = 2016  # fixed, so a Monte Carlo run can be repeated and quoted
MC_DEFAULT_N, MC_DEFAULT_NOISE = 1000, 0.25
MOVE_UP, MOVE_DOWN, NO_MOVE = "↑", "↓", "–"
# Saaty's 1–9 scale and its reciprocals, least to most important (a_ij: i against j).
SAATY_LABELS = tuple(f"1/{k}" for k in range(9, 1, -1)) + tuple(str(k) for k in range(1, 10))
AHP_PAIRS = ((0, 1), (0, 2), (1, 2))  # the upper triangle of the 3 × 3 group matrix
SAME_DEVIATION = 1e-6  # judgements deviating equally (up to this) are named together
PREVIEW_ROWS = 30
ROW_PX, MAX_TABLE_PX = 35, 1100  # st.dataframe row height; taller tables scroll
PUBLISH_ACTOR = "evaluation page"  # audit actor of a publication made in the app


# ------------------------------------------------------------------------------------ AHP helpers
def saaty_value(label: str) -> float:
    """'1/3' -> 0.333…, '5' -> 5.0."""
    return float(Fraction(label))


def nearest_saaty(ratio: float) -> str:
    """The scale label closest to `ratio` on a log scale (judgements are ratios)."""
    return min(SAATY_LABELS, key=lambda label: abs(math.log(saaty_value(label)) - math.log(ratio)))


def default_judgements(scheme: Scheme) -> dict[tuple[int, int], str]:
    """Judgements that reproduce the scheme's group weights as closely as the scale allows, so the
    AHP controls start from the scheme rather than from "all equal"."""
    w = [g.weight for g in scheme.groups]
    return {(i, j): nearest_saaty(w[i] / w[j]) if w[i] > 0 and w[j] > 0 else "1" for i, j in AHP_PAIRS}


def ahp_result(judgements: dict[tuple[int, int], str]) -> weighting.AhpResult:
    n = len(GROUP_IDS)
    matrix = weighting.matrix_from_judgements(n, {pair: saaty_value(v) for pair, v in judgements.items()})
    return weighting.ahp(matrix)


def worst_judgements(result: weighting.AhpResult) -> list[weighting.Judgement]:
    """The judgement(s) that disagree most with the AHP weights; ties are all named (in a 3 × 3
    matrix every judgement deviates by the same factor, so any one of them can be revised)."""
    top = result.worst_judgements[0].deviation
    return [j for j in result.worst_judgements if j.deviation >= top * (1 - SAME_DEVIATION)]


def judgement_text(j: weighting.Judgement, t: Translator) -> str:
    return t("evaluation.ahp.judgement", first=group_name(GROUP_IDS[j.i], t), second=group_name(GROUP_IDS[j.j], t),
             judged=saaty_text(j.judged), implied=f"{j.implied:.2f}")


def saaty_text(value: float) -> str:
    """5.0 -> '5', 0.2 -> '1/5' (the label the user picked)."""
    return str(Fraction(value).limit_denominator(9))


def ahp_frame(result: weighting.AhpResult, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("evaluation.col.group"): [group_name(g, t) for g in GROUP_IDS],
        t("evaluation.col.weight_pct"): np.round(100 * result.weights, 2),
    })


# ------------------------------------------------------------------------------------ names
def group_name(group_id: str, t: Translator) -> str:
    return t(f"eval.group.{group_id}.name")


def indicator_name(indicator_id: str, t: Translator) -> str:
    return t(f"eval.ind.{indicator_id}.name")


def grade_text(grade, t: Translator) -> str:
    """A grade label in the page language ('' for none)."""
    if not isinstance(grade, str) or not grade:
        return ""
    return publication.grade_label(grade, t)


# ------------------------------------------------------------------------------------ scheme
def build_scheme(base: Scheme, group_weights: dict[str, float], indicator_weights: dict[str, float],
                 aggregation: str, rule: GradeRule, methods: dict[str, str]) -> Scheme:
    """The base scheme with the page's settings; not validated (see `setting_problems`)."""
    changed = base.with_weights(group_weights, indicator_weights)
    inds = tuple(replace(i, method=methods.get(i.id, i.method)) for i in changed.indicators)
    return replace(changed, indicators=inds, aggregation=aggregation, grade=rule)


def setting_problems(scheme: Scheme) -> list[tuple[str, dict]]:
    """(catalogue key, params) of each reason the settings cannot be applied; empty when usable."""
    problems = []
    if sum(g.weight for g in scheme.groups) <= 0:
        problems.append(("evaluation.problem.no_group_weight", {}))
    for g in scheme.groups:
        members = [i for i in scheme.indicators if i.group == g.id]
        if g.weight > 0 and not any(i.weight > 0 for i in members):
            problems.append(("evaluation.problem.group_without_indicator", {"group": g.id}))
    rule = scheme.grade
    if rule.mode == "bands" and not (100 >= rule.bands[0] > rule.bands[1] > rule.bands[2] >= 0):
        problems.append(("evaluation.problem.bands", {}))
    if rule.mode == "quotas" and sum(rule.quotas) > 1:
        problems.append(("evaluation.problem.quotas", {}))
    if not problems:
        try:
            scheme.validate()
        except SchemeError as exc:  # a rule not checked above: show the scheme's own message
            problems.append(("evaluation.problem.other", {"detail": str(exc)}))
    return problems


def group_shares(weights: pd.Series, scheme: Scheme) -> pd.Series:
    """Group -> sum of its indicators' global weights."""
    return pd.Series({g: sum(weights[i.id] for i in scheme.indicators if i.group == g) for g in GROUP_IDS})


def weights_frame(scheme: Scheme, weights: pd.Series, t: Translator) -> pd.DataFrame:
    """Group, indicator, group weight, weight within the group and global weight (all in %) of
    the weights in force; the within-group share is of the global weights, so the table adds up."""
    groups = group_shares(weights, scheme)
    rows = []
    for ind in scheme.indicators:
        g = groups[ind.group]
        rows.append((group_name(ind.group, t), indicator_name(ind.id, t), 100 * g,
                     100 * weights[ind.id] / g if g > 0 else 0.0, 100 * weights[ind.id]))
    columns = [t("evaluation.col.group"), t("evaluation.col.indicator"), t("evaluation.col.group_weight"),
               t("evaluation.col.within_weight"), t("evaluation.col.global_weight")]
    return pd.DataFrame(rows, columns=columns).round(2)


def definitions_frame(scheme: Scheme, weights: pd.Series, t: Translator) -> pd.DataFrame:
    """The indicator system: group, name, formula, unit, direction, normalisation method with its
    parameters, weight within the group and global weight (both %, as in force)."""
    params = indicators.formula_params()
    groups = group_shares(weights, scheme)
    data = {
        "group": [group_name(i.group, t) for i in scheme.indicators],
        "indicator": [indicator_name(i.id, t) for i in scheme.indicators],
        "formula": [t(f"eval.ind.{i.id}.formula", **params) for i in scheme.indicators],
        "unit_of_measure": [t(f"eval.ind.{i.id}.unit") for i in scheme.indicators],
        "direction": [t(f"pub.direction.{i.direction}") for i in scheme.indicators],
        "normalisation": [publication.normalisation_text(i, t) for i in scheme.indicators],
        "within_weight": [round(100 * weights[i.id] / groups[i.group], 2) if groups[i.group] > 0 else 0.0
                          for i in scheme.indicators],
        "global_weight": [round(100 * weights[i.id], 2) for i in scheme.indicators],
    }
    return pd.DataFrame({t(f"evaluation.col.{key}"): values for key, values in data.items()})


# ------------------------------------------------------------------------------------ ranking
def move_text(move) -> str:
    """Rank change as shown: '↑2' (climbed two places), '↓1', '–' (same), '' (not ranked before)."""
    if move is None or pd.isna(move):
        return ""
    move = int(move)
    if move > 0:
        return f"{MOVE_UP}{move}"
    if move < 0:
        return f"{MOVE_DOWN}{-move}"
    return NO_MOVE


def grade_change_text(before, after, t: Translator) -> str:
    """'良好 → 优秀' when the grade changed against the baseline, else ''."""
    before = before if isinstance(before, str) else ""
    after = after if isinstance(after, str) else ""
    if before == after:
        return ""
    return f"{grade_text(before, t) or fmt.MISSING} → {grade_text(after, t) or fmt.MISSING}"


def region_names(regions: pd.DataFrame, lang: str) -> dict[str, str]:
    return dict(zip(regions["code"].astype(str), localised(regions, "name_zh", "name_en", lang)))


def unit_labels(units: pd.DataFrame, lang: str) -> pd.Series:
    """Unit display names (English where present) indexed by unit id."""
    return localised(units, "name", "name_en", lang)


def baseline_table(snap: dict | None) -> pd.DataFrame:
    """Rank and grade per unit of a published snapshot (index unit_id), for scoring.rank_moves."""
    if snap is None:
        return pd.DataFrame({"rank": pd.Series(dtype="Int64"), "grade": pd.Series(dtype=object)})
    units = snap["units"]
    return pd.DataFrame(
        {"rank": pd.array([u["rank"] for u in units], dtype="Int64"), "grade": [u["grade"] for u in units]},
        index=pd.Index([int(u["unit_id"]) for u in units], name="unit_id"),
    )


def ranking_frame(result: scoring.EvaluationResult, units: pd.DataFrame, moves: pd.DataFrame,
                  regions: dict[str, str], t: Translator, unit_ids=None) -> pd.DataFrame:
    """The rated units by rank: rank (and rank within the selection when `unit_ids` narrows it),
    move against the baseline, unit, type, region, score, group scores, grade, grade change."""
    rated = result.rated()
    if unit_ids is not None:
        rated = rated[rated.index.isin(list(unit_ids))]
    names = unit_labels(units, t.lang)
    move = moves.reindex(rated.index)
    data = {"rank": rated["rank"].astype(int)}
    if unit_ids is not None:
        data["peer_rank"] = rated["rank"].rank(method="min").astype(int)
    data.update({
        "move": move["move"].map(move_text),
        "unit": names.reindex(rated.index),
        "unit_type": units["unit_type"].reindex(rated.index).map(lambda v: t.enum("unit_type", v)),
        "region": units["region_code"].reindex(rated.index).astype(str).map(lambda c: regions.get(c, c)),
        "score": rated["score"].astype(float).round(2),
        **{g: rated[g].astype(float).round(2) for g in GROUP_IDS},
        "grade": rated["grade"].map(lambda g: grade_text(g, t)),
        "grade_change": [grade_change_text(b, a, t) for b, a in zip(move["grade_baseline"], move["grade"])],
    })
    headers = {key: t(f"evaluation.col.{key}") for key in data}  # group scores: short group names
    return pd.DataFrame({headers[k]: pd.Series(v).values for k, v in data.items()})


def unrated_frame(result: scoring.EvaluationResult, units: pd.DataFrame, regions: dict[str, str],
                  t: Translator) -> pd.DataFrame:
    """Units not rated, with the reason and the grade that follows from it (not reporting is
    graded with the fourth label; too few instruments leaves the grade empty)."""
    table = result.table[result.table["status"] != scoring.RATED]
    min_instruments = result.scheme.min_instruments
    return pd.DataFrame({
        t("evaluation.col.unit"): unit_labels(units, t.lang).reindex(table.index).values,
        t("evaluation.col.unit_type"): units["unit_type"].reindex(table.index).map(lambda v: t.enum("unit_type", v)).values,
        t("evaluation.col.region"): units["region_code"].reindex(table.index).astype(str).map(lambda c: regions.get(c, c)).values,
        t("evaluation.col.eligible"): units["eligible_instruments"].reindex(table.index).astype(int).values,
        t("evaluation.col.reason"): [t(f"pub.reason.{s}", min_instruments=min_instruments) for s in table["status"]],
        t("evaluation.col.grade"): [grade_text(g, t) or fmt.MISSING for g in table["grade"]],
    })


def scorecard_frame(result: scoring.EvaluationResult, unit_id, t: Translator) -> pd.DataFrame:
    """One unit's indicators: raw value, normalised value (0–100), global weight (%), contribution
    (weight × normalised), and a last row whose contribution is the total; for an arithmetic
    score that total is the unit's score."""
    card = scoring.scorecard(result, unit_id)
    geometric = "factor" in card.columns
    rows = []
    for ind_id, row in card.iterrows():
        rows.append({
            "group": group_name(row["group"], t),
            "indicator": indicator_name(ind_id, t),
            "raw": _plain_number(row["raw"], 4),
            "normalised": _plain_number(row["normalised"], 2),
            "weight": _plain_number(100 * row["weight"], 2),
            "contribution": _plain_number(row["contribution"], 3),
            **({"factor": _plain_number(row["factor"], 4)} if geometric else {}),
        })
    total = {"group": t("evaluation.scorecard.total"), "indicator": "", "raw": "", "normalised": "",
             "weight": _plain_number(100 * card["weight"].sum(), 2),
             "contribution": _plain_number(card["contribution"].sum(), 3) if card["contribution"].notna().any() else fmt.MISSING}
    if geometric:
        total["factor"] = _plain_number(card["factor"].prod(), 4) if card["factor"].notna().all() else fmt.MISSING
    rows.append(total)
    frame = pd.DataFrame(rows)
    return frame.rename(columns={key: t(f"evaluation.scorecard.{key}") for key in frame.columns})


def table_height(rows: int) -> int:
    """Pixel height showing every row of a data frame (plus its header), up to MAX_TABLE_PX."""
    return min(MAX_TABLE_PX, ROW_PX * (rows + 1) + 3)


def _plain_number(value, decimals: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return fmt.MISSING
    return f"{value:,.{decimals}f}"


def instrument_frame(annual: pd.DataFrame, sort_by: str, t: Translator, limit: int | None = None) -> pd.DataFrame:
    """Instruments of the year ranked by utilisation (effective / rated hours) or by external
    share (external / effective hours); instruments without use sort last on the share."""
    frame = annual.copy()
    used = frame["effective_hours"] > 0
    frame["external_share"] = (frame["external_hours"] / frame["effective_hours"]).where(used)
    key = "utilisation" if sort_by == "utilisation" else "external_share"
    frame = frame.sort_values([key, "effective_hours", "id"], ascending=[False, False, True],
                              na_position="last", kind="stable")
    if limit is not None:
        frame = frame.head(limit)
    return pd.DataFrame({
        t("evaluation.col.rank"): range(1, len(frame) + 1),
        t("evaluation.col.instrument"): localised(frame, "name_zh", "name_en", t.lang).values,
        t("evaluation.col.unit"): localised(frame, "unit_name", "unit_name_en", t.lang).values,
        t("evaluation.col.purpose"): frame["purpose"].map(lambda v: t.enum("purpose", v)).values,
        t("evaluation.col.effective_hours"): frame["effective_hours"].round(1).values,
        t("evaluation.col.rated_hours"): frame["rated_hours"].round(0).values,
        t("evaluation.col.utilisation"): (100 * frame["utilisation"]).round(1).values,
        t("evaluation.col.external_hours"): frame["external_hours"].round(1).values,
        t("evaluation.col.external_share"): (100 * frame["external_share"]).round(1).values,
    })


# ------------------------------------------------------------------------------------ robustness
def rank_band_frame(mc: pd.DataFrame, names: pd.Series) -> pd.DataFrame:
    """Per unit: label, base rank, median rank, 5 % and 95 % ranks; ordered by base rank."""
    frame = mc.sort_values(["base_rank", "median_rank"], kind="stable")
    return pd.DataFrame({
        "label": names.reindex(frame.index).values,
        "base_rank": frame["base_rank"].astype(float).values,
        "median_rank": frame["median_rank"].astype(float).values,
        "p5_rank": frame["p5_rank"].astype(float).values,
        "p95_rank": frame["p95_rank"].astype(float).values,
    })


def rank_band_chart(frame: pd.DataFrame, titles: dict[str, str]) -> alt.LayerChart:
    """A row per unit: a bar from the 5 % to the 95 % rank, a dot at the median, a tick at the
    rank under the current weights. Rank 1 is on the left."""
    base = alt.Chart(frame).encode(
        y=alt.Y("label:N", sort=list(frame["label"]), title=None, axis=alt.Axis(labelLimit=260)),
    )
    tooltip = [alt.Tooltip("label:N", title=titles["unit"]),
               alt.Tooltip("base_rank:Q", title=titles["base_rank"]),
               alt.Tooltip("median_rank:Q", title=titles["median_rank"]),
               alt.Tooltip("p5_rank:Q", title=titles["p5_rank"]),
               alt.Tooltip("p95_rank:Q", title=titles["p95_rank"])]
    top = max(1.0, float(frame["p95_rank"].max()) if len(frame) else 1.0)
    x_scale = alt.Scale(domain=[0.5, top + 0.5], nice=False)
    band = base.mark_rule(strokeWidth=6, color=charts.PRIMARY, opacity=0.35).encode(
        x=alt.X("p5_rank:Q", title=titles["rank"], scale=x_scale, axis=alt.Axis(tickMinStep=1, format="d")),
        x2="p95_rank:Q", tooltip=tooltip)
    median = base.mark_circle(size=70, color=charts.PRIMARY, opacity=1).encode(x="median_rank:Q", tooltip=tooltip)
    current = base.mark_tick(color=charts.ACCENT, thickness=3, size=16).encode(x="base_rank:Q", tooltip=tooltip)
    return alt.layer(band, median, current).properties(height=alt.Step(22), width="container")


def drop_one_frame(drop: pd.DataFrame, base_ranks: pd.Series, names: pd.Series, t: Translator) -> pd.DataFrame:
    """Per dropped indicator: Spearman and Kendall correlation of the ranking without it against
    the current ranking, how many units move, and the largest move (with the unit)."""
    rows = []
    for ind_id in drop.columns:
        ranks = drop[ind_id]
        if ranks.isna().all():
            rows.append((indicator_name(ind_id, t), math.nan, math.nan, 0, fmt.MISSING))
            continue
        rho, tau = scoring.rank_correlation(ranks.astype(float), base_ranks.astype(float))
        shift = (ranks.astype(float) - base_ranks.reindex(ranks.index).astype(float))
        moved = int((shift != 0).sum())
        if moved:
            uid = shift.abs().idxmax()
            biggest = f"{move_text(-int(shift[uid]))} {names.get(uid, uid)}"
        else:
            biggest = NO_MOVE
        rows.append((indicator_name(ind_id, t), round(rho, 4), round(tau, 4), moved, biggest))
    columns = [t("evaluation.col.dropped"), t("evaluation.col.spearman"), t("evaluation.col.kendall"),
               t("evaluation.col.moved_units"), t("evaluation.col.largest_move")]
    return pd.DataFrame(rows, columns=columns)


# ------------------------------------------------------------------------------------ publication
def publications_frame(pubs: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Published evaluations of the year, newest first: id, time, scheme, fingerprint."""
    return pd.DataFrame({
        t("evaluation.col.publication"): pubs["id"].astype(int).values,
        t("evaluation.col.published_at"): pd.to_datetime(pubs["published_at"]).dt.strftime("%Y-%m-%d %H:%M").values,
        t("evaluation.col.scheme"): [f"{n} v{v}" if isinstance(n, str) else fmt.MISSING
                                     for n, v in zip(pubs["scheme_name"], pubs["scheme_version"])],
        t("evaluation.col.published_by"): pubs["published_by"].values,
        t("evaluation.col.fingerprint"): pubs["fingerprint"].values,
    })


# ================================================================================== Streamlit part
@dataclass(frozen=True)
class WeightChoice:
    """The evaluation the controls ask for: `scheme` (settings in force) and, for entropy, CRITIC
    and blends, `weights` (global weights overriding the scheme's; None = the scheme's)."""

    scheme: Scheme
    weights: pd.Series | None
    method: str
    applied: bool  # False when the requested settings were rejected and the base is shown


@st.cache_data(show_spinner=False, max_entries=16)
def _indicator_table(url: str, revision: int, year: int, scheme_json: str) -> indicators.IndicatorTable:
    engine = db.get_engine(url)
    return indicators.compute_indicators(indicators.load_inputs(engine, year), year, Scheme.from_json(scheme_json))


def indicator_table(ctx: PageContext, year: int, scheme: Scheme) -> indicators.IndicatorTable:
    """Raw indicator values of `year`, cached per data revision (the expensive store read).
    Only the indicator ids and the minimum number of instruments of the scheme matter here, so the
    base scheme is passed, never the live one."""
    url = ctx.engine.url.render_as_string(hide_password=False)
    return _indicator_table(url, ctx.revision, year, scheme.to_json())


def _default(name: str, value) -> str:
    """The widget key of `name`, seeded with `value` on first use (no `value=` argument, so the
    state kept across method switches and language changes is never fought by a default)."""
    key = widget_key(name)
    st.session_state.setdefault(key, value)
    return key


def keep_hidden_values(names: list[str]) -> None:
    """Streamlit forgets the value of a widget that is not drawn in a run; the weight inputs of a
    method not currently chosen must survive a switch to another method and back."""
    for name in names:
        key = widget_key(name)
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def value_widget_names(scheme: Scheme) -> list[str]:
    names = [f"eval_group_{g.id}" for g in scheme.groups] + [f"eval_ind_{i.id}" for i in scheme.indicators]
    names += [f"eval_ahp_{i}_{j}" for i, j in AHP_PAIRS] + ["eval_subjective", "eval_objective", "eval_alpha"]
    names += ["eval_band_0", "eval_band_1", "eval_band_2", "eval_quota_0", "eval_quota_1", "eval_pass_score"]
    return names


def read_group_weights(scheme: Scheme, t: Translator) -> dict[str, float]:
    st.markdown(f"**{t('evaluation.weights.groups')}**")
    cols = st.columns(len(scheme.groups))
    return {g.id: float(col.number_input(group_name(g.id, t), min_value=0.0, max_value=1000.0, step=1.0, format="%g",
                                         key=_default(f"eval_group_{g.id}", float(g.weight))))
            for col, g in zip(cols, scheme.groups)}


def read_indicator_weights(scheme: Scheme, t: Translator) -> dict[str, float]:
    st.markdown(f"**{t('evaluation.weights.indicators')}**")
    values = {}
    for col, group in zip(st.columns(len(GROUP_IDS)), GROUP_IDS):
        with col:
            st.caption(group_name(group, t))
            for ind in (i for i in scheme.indicators if i.group == group):
                values[ind.id] = float(st.number_input(
                    indicator_name(ind.id, t), min_value=0.0, max_value=1000.0, step=1.0, format="%g",
                    key=_default(f"eval_ind_{ind.id}", float(ind.weight))))
    return values


def read_ahp(scheme: Scheme, t: Translator) -> weighting.AhpResult:
    """Three pairwise judgements of the groups on Saaty's scale; shows weights, λmax, CI, RI, CR."""
    st.markdown(f"**{t('evaluation.ahp.title')}**")
    st.caption(t("evaluation.ahp.scale"))
    defaults = default_judgements(scheme)
    judgements = {}
    for i, j in AHP_PAIRS:
        judgements[(i, j)] = st.select_slider(
            t("evaluation.ahp.pair", first=group_name(GROUP_IDS[i], t), second=group_name(GROUP_IDS[j], t)),
            options=SAATY_LABELS, key=_default(f"eval_ahp_{i}_{j}", defaults[(i, j)]))
    result = ahp_result(judgements)
    left, right = st.columns([2, 3])
    left.dataframe(ahp_frame(result, t), hide_index=True, width="stretch")
    with right:
        m1, m2 = st.columns(2)
        m1.metric(t("evaluation.ahp.lambda_max"), f"{result.lambda_max:.4f}")
        m2.metric(t("evaluation.ahp.ci"), f"{result.ci:.4f}")
        m3, m4 = st.columns(2)
        m3.metric(t("evaluation.ahp.ri"), f"{result.ri:.2f}")
        m4.metric(t("evaluation.ahp.cr"), f"{result.cr:.4f}")
        st.caption(t("evaluation.ahp.ri_source", source=weighting.SAATY_RI_SOURCE, n=result.n, ri=f"{result.ri:.2f}"))
    if result.consistent:
        st.success(t("evaluation.ahp.consistent", cr=f"{result.cr:.4f}", limit=f"{result.max_cr:.2f}"))
    else:
        worst = t("evaluation.ahp.separator").join(judgement_text(j, t) for j in worst_judgements(result))
        st.warning(t("evaluation.ahp.inconsistent", cr=f"{result.cr:.4f}", limit=f"{result.max_cr:.2f}", worst=worst))
    return result


def read_grading(base: Scheme, t: Translator) -> tuple[str, GradeRule, dict[str, str]]:
    """Aggregation, grade rule and per-indicator normalisation methods."""
    c1, c2, c3 = st.columns(3)
    aggregation = c1.radio(t("evaluation.aggregation"), AGGREGATIONS, horizontal=True,
                           key=_default("eval_aggregation", base.aggregation),
                           format_func=lambda a: t(f"evaluation.aggregation.{a}"))
    mode = c2.radio(t("evaluation.grade_mode"), GRADE_MODES, horizontal=True,
                    key=_default("eval_grade_mode", base.grade.mode),
                    format_func=lambda m: t(f"evaluation.grade_mode.{m}"))
    fourth = c3.radio(t("evaluation.fourth_label"), FOURTH_LABELS, horizontal=True,
                      key=_default("eval_fourth", base.grade.fourth_label),
                      format_func=lambda label: t(f"evaluation.fourth.{FOURTH_LABELS.index(label)}"))
    rule = replace(base.grade, mode=mode, fourth_label=fourth)
    labels = rule.labels()
    if mode == "bands":
        cols = st.columns(3)
        bands = tuple(float(col.number_input(t("evaluation.band", grade=grade_text(labels[k], t)), min_value=0.0,
                                             max_value=100.0, step=1.0, format="%g", key=_default(f"eval_band_{k}", base.grade.bands[k])))
                      for k, col in enumerate(cols))
        rule = replace(rule, bands=bands)
    else:
        cols = st.columns(3)
        quotas = tuple(float(cols[k].number_input(t("evaluation.quota", grade=grade_text(labels[k], t)), min_value=0.0,
                                                  max_value=100.0, step=1.0, format="%g",
                                                  key=_default(f"eval_quota_{k}", 100 * base.grade.quotas[k]))) / 100
                       for k in range(2))
        pass_score = float(cols[2].number_input(t("evaluation.pass_score", grade=grade_text(labels[3], t)),
                                                min_value=0.0, max_value=100.0, step=1.0, format="%g",
                                                key=_default("eval_pass_score", base.grade.pass_score)))
        rule = replace(rule, quotas=quotas, pass_score=pass_score)
    methods = {}
    with st.expander(t("evaluation.methods.title")):
        st.caption(t("evaluation.methods.caption"))
        cols = st.columns(3)
        for k, ind in enumerate(base.indicators):
            options = METHODS if ind.method == "goalpost" or "lower" in ind.params else tuple(m for m in METHODS if m != "goalpost")
            methods[ind.id] = cols[k % 3].selectbox(
                indicator_name(ind.id, t), options, key=_default(f"eval_norm_{ind.id}", ind.method),
                format_func=lambda m: t(f"evaluation.method.{m}"))
    return aggregation, rule, methods


def objective_weights(kind: str, table: indicators.IndicatorTable, scheme: Scheme) -> pd.Series:
    """Entropy or CRITIC weights from the normalised matrix (0–100, larger better) of the rated
    units under `scheme`'s normalisation."""
    rated = table.units.index[table.units["status"] == scoring.RATED]
    normalised = scoring.normalise_table(table.raw.reindex(index=rated, columns=scheme.indicator_ids()), scheme)
    compute = weighting.entropy if kind == "entropy" else weighting.critic
    return pd.Series(compute(normalised.to_numpy(float)), index=scheme.indicator_ids())


def read_weights(base: Scheme, table: indicators.IndicatorTable, t: Translator) -> WeightChoice:
    """All weight, normalisation and grading controls; returns what to evaluate."""
    keep_hidden_values(value_widget_names(base) + [f"eval_norm_{i.id}" for i in base.indicators]
                       + ["eval_aggregation", "eval_grade_mode", "eval_fourth"])
    method = st.radio(t("evaluation.method"), WEIGHT_METHODS, horizontal=True, key=_default("eval_method", "direct"),
                      format_func=lambda m: t(f"evaluation.weight_method.{m}"))
    st.caption(t(f"evaluation.weight_method.{method}.help"))
    with st.container(border=True):
        st.markdown(f"**{t('evaluation.grading.title')}**")
        aggregation, rule, methods = read_grading(base, t)
    subjective = method if method in SUBJECTIVE else None
    objective = method if method in OBJECTIVE else None
    alpha = None
    if method == "blend":
        c1, c2, c3 = st.columns(3)
        subjective = c1.radio(t("evaluation.blend.subjective"), SUBJECTIVE, key=_default("eval_subjective", "direct"),
                              format_func=lambda m: t(f"evaluation.weight_method.{m}"))
        objective = c2.radio(t("evaluation.blend.objective"), OBJECTIVE, key=_default("eval_objective", "entropy"),
                             format_func=lambda m: t(f"evaluation.weight_method.{m}"))
        alpha = float(c3.slider(t("evaluation.blend.alpha"), 0.0, 1.0, step=0.05, key=_default("eval_alpha", 0.5)))
    group_weights = {g.id: g.weight for g in base.groups}
    indicator_weights = {i.id: i.weight for i in base.indicators}
    applied = True
    if subjective is not None:
        with st.container(border=True):
            if subjective == "direct":
                group_weights = read_group_weights(base, t)
            else:
                result = read_ahp(base, t)
                if result.consistent:
                    group_weights = dict(zip(GROUP_IDS, (float(w) for w in result.weights)))
                else:
                    applied = False
            indicator_weights = read_indicator_weights(base, t)
    scheme = build_scheme(base, group_weights, indicator_weights, aggregation, rule, methods)
    problems = setting_problems(scheme)
    for key, params in problems:
        st.error(t(key, **{k: (group_name(v, t) if k == "group" else v) for k, v in params.items()}))
    if problems:
        return WeightChoice(base, None, method, applied=False)
    if objective is None:
        return WeightChoice(scheme, None, method, applied)
    obj = objective_weights(objective, table, scheme)
    if alpha is None:
        return WeightChoice(scheme, obj, method, applied)
    subj = scoring.indicator_weights(scheme)
    blended = weighting.blend(subj.to_numpy(float), obj.reindex(subj.index).to_numpy(float), alpha)
    return WeightChoice(scheme, pd.Series(blended, index=subj.index), method, applied)


def evaluate(table: indicators.IndicatorTable, choice: WeightChoice) -> scoring.EvaluationResult:
    return scoring.evaluate(table.raw, table.units, choice.scheme, choice.weights)


def choice_signature(year: int, revision: int, choice: WeightChoice, *extra) -> str:
    """A key of everything a robustness run depends on, to tell a stale result from a current one."""
    weights = "" if choice.weights is None else choice.weights.round(12).to_json()
    text = "|".join([str(year), str(revision), choice.scheme.to_json(), weights, *map(str, extra)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------ store reads
@st.cache_data(show_spinner=False, max_entries=8)
def _current_scheme_json(url: str, revision: int) -> str:
    return evaluation.current_scheme(db.get_engine(url)).to_json()


def current_scheme(ctx: PageContext) -> Scheme:
    """The scheme in force (latest stored version, else the default file), per data revision."""
    return Scheme.from_json(_current_scheme_json(_url(ctx), ctx.revision))


@st.cache_data(show_spinner=False, max_entries=16)
def _publications(url: str, revision: int, year: int) -> pd.DataFrame:
    return E.published_evaluations(db.get_engine(url), year)


@st.cache_data(show_spinner=False, max_entries=16)
def _snapshot(url: str, revision: int, pub_id: int) -> dict | None:
    return E.published_snapshot(db.get_engine(url), pub_id)


@st.cache_data(show_spinner=False, max_entries=8)
def _verify(url: str, revision: int, pub_id: int) -> evaluation.VerifyOutcome:
    return evaluation.verify_publication(db.get_engine(url), pub_id)


def _url(ctx: PageContext) -> str:
    return ctx.engine.url.render_as_string(hide_password=False)


def publications(ctx: PageContext, year: int) -> pd.DataFrame:
    """Published evaluations of the year, newest first."""
    return _publications(_url(ctx), ctx.revision, year)


def latest_snapshot(ctx: PageContext, year: int) -> dict | None:
    pubs = publications(ctx, year)
    return None if pubs.empty else _snapshot(_url(ctx), ctx.revision, int(pubs["id"].iloc[0]))


def baseline(ctx: PageContext, year: int, table: indicators.IndicatorTable, base: Scheme) -> tuple[pd.DataFrame, str]:
    """(rank and grade per unit, caption) of what the live ranking is compared with: the latest
    published evaluation of the year, else the ranking under the scheme in force."""
    snap = latest_snapshot(ctx, year)
    if snap is not None:
        pub = snap["publication"]
        return baseline_table(snap), ctx.t("evaluation.baseline.published", id=pub["id"],
                                           at=pd.Timestamp(pub["published_at"]).strftime("%Y-%m-%d %H:%M"))
    result = scoring.evaluate(table.raw, table.units, base)
    return result.table[["rank", "grade"]], ctx.t("evaluation.baseline.scheme", name=base.name, version=base.version)


# ------------------------------------------------------------------------------------ sections
def show_definitions(scheme: Scheme, weights: pd.Series, t: Translator) -> None:
    """The definition table (a static table: the formula texts wrap instead of being cut)."""
    frame = definitions_frame(scheme, weights, t)
    st.table(frame.style.format(precision=2), hide_index=True)


def show_weights(choice: WeightChoice, result: scoring.EvaluationResult, t: Translator) -> None:
    """The weights in force after renormalisation (what the ranking uses)."""
    st.markdown(f"**{t('evaluation.weights.in_force')}**")
    frame = weights_frame(choice.scheme, result.weights, t)
    number = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(frame, hide_index=True, width="stretch", height=table_height(len(frame)),
                 column_config={c: number for c in frame.columns[2:]})
    st.caption(t("evaluation.weights.in_force_caption"))


def show_preview(result: scoring.EvaluationResult, units: pd.DataFrame, moves: pd.DataFrame, t: Translator) -> None:
    """The top of the live ranking beside the weight controls, so a change shows at once."""
    st.markdown(f"**{t('evaluation.preview.title')}**")
    rated = result.rated().head(PREVIEW_ROWS)
    # Score before the name: a long unit name may be cut at the right edge, the score never is.
    frame = pd.DataFrame({
        t("evaluation.col.rank"): rated["rank"].astype(int).values,
        t("evaluation.col.move"): moves["move"].reindex(rated.index).map(move_text).values,
        t("evaluation.col.score"): rated["score"].astype(float).round(2).values,
        t("evaluation.col.unit"): unit_labels(units, t.lang).reindex(rated.index).values,
    })
    st.dataframe(frame, hide_index=True, width="stretch", height=table_height(len(frame)), column_config={
        t("evaluation.col.rank"): st.column_config.NumberColumn(width=60),
        t("evaluation.col.move"): st.column_config.TextColumn(width=80),
        t("evaluation.col.score"): st.column_config.NumberColumn(format="%.2f", width=80)})
    if len(result.rated()) > PREVIEW_ROWS:
        st.caption(t("evaluation.preview.more", shown=PREVIEW_ROWS, total=len(result.rated())))


def read_peer_filter(units: pd.DataFrame, regions: dict[str, str], t: Translator) -> list | None:
    """Unit types and regions to compare within (peer groups); None when nothing is chosen."""
    rated = units[units["status"] == scoring.RATED]
    types = [v for v in dict.fromkeys(rated["unit_type"]) if isinstance(v, str)]
    codes = sorted(set(rated["region_code"].astype(str)))
    c1, c2 = st.columns(2)
    any_label = t("evaluation.filter.any")
    chosen_types = c1.multiselect(t("evaluation.filter.unit_type"), types, key=widget_key("eval_filter_types"),
                                  placeholder=any_label, format_func=lambda v: t.enum("unit_type", v))
    chosen_regions = c2.multiselect(t("evaluation.filter.region"), codes, key=widget_key("eval_filter_regions"),
                                    placeholder=any_label, format_func=lambda c: regions.get(c, c))
    if not chosen_types and not chosen_regions:
        return None
    keep = rated["unit_type"].isin(chosen_types or types) & rated["region_code"].astype(str).isin(chosen_regions or codes)
    return list(rated.index[keep])


def show_ranking(result: scoring.EvaluationResult, units: pd.DataFrame, moves: pd.DataFrame,
                 regions: dict[str, str], baseline_caption: str, t: Translator) -> None:
    peers = read_peer_filter(units, regions, t)
    frame = ranking_frame(result, units, moves, regions, t, unit_ids=peers)
    st.markdown(t("evaluation.ranking.count", shown=len(frame), rated=len(result.rated()), total=len(result.table)))
    st.caption(baseline_caption)
    if frame.empty:
        st.info(t("evaluation.ranking.no_match"))
    else:
        number = st.column_config.NumberColumn(format="%.2f")
        score_columns = [t(f"evaluation.col.{key}") for key in ("score",) + GROUP_IDS]
        # Long unit and place names are cut (the full text shows on hover) so the scores fit.
        text = {t("evaluation.col.unit"): st.column_config.TextColumn(width=260),
                t("evaluation.col.region"): st.column_config.TextColumn(width=130)}
        st.dataframe(frame, hide_index=True, width="stretch", height=table_height(len(frame)),
                     column_config={**text, **{c: number for c in score_columns}})
    unrated = unrated_frame(result, units, regions, t)
    if not unrated.empty:
        st.markdown(f"**{t('evaluation.unrated.title')}**")
        st.dataframe(unrated, hide_index=True, width="stretch", height=table_height(len(unrated)))


def show_nothing_rated(ctx: PageContext, year: int, table: indicators.IndicatorTable, base: Scheme) -> None:
    """No unit can be ranked this year: say why, list every unit's reason, show the definitions."""
    t = ctx.t
    st.info(t("evaluation.no_rated", year=year, min_instruments=base.min_instruments))
    result = scoring.evaluate(table.raw, table.units, base)
    st.markdown(f"**{t('evaluation.unrated.title')}**")
    regions = region_names(read(ctx, "regions"), t.lang)
    st.dataframe(unrated_frame(result, table.units, regions, t), hide_index=True, width="stretch")
    with st.expander(t("evaluation.tab.definitions")):
        show_definitions(base, result.weights, t)


def show_scorecard(result: scoring.EvaluationResult, units: pd.DataFrame, t: Translator) -> None:
    """Pick a unit; its indicators with raw and normalised values, weights and contributions."""
    st.subheader(t("evaluation.scorecard.title"))
    names = unit_labels(units, t.lang)
    order = list(result.table.index)  # rated by rank, then the others
    labels = {uid: _unit_option(uid, result.table.loc[uid], names, t) for uid in order}
    uid = st.selectbox(t("evaluation.scorecard.choose"), order, key=widget_key("eval_unit"),
                       format_func=lambda u: labels[u])
    row = result.table.loc[uid]
    st.table(scorecard_frame(result, uid, t), hide_index=True)
    if row["status"] != scoring.RATED:
        st.info(t("evaluation.scorecard.not_rated", reason=t(f"pub.reason.{row['status']}",
                                                            min_instruments=result.scheme.min_instruments)))
    elif result.scheme.aggregation == "geometric":
        st.caption(t("evaluation.scorecard.geometric", score=f"{row['score']:.3f}", floor=fmt.trimmed(result.floor)))
    else:
        st.caption(t("evaluation.scorecard.arithmetic", score=f"{row['score']:.3f}"))


def _unit_option(uid, row: pd.Series, names: pd.Series, t: Translator) -> str:
    if row["status"] == scoring.RATED:
        return t("evaluation.scorecard.option", rank=int(row["rank"]), unit=names.get(uid, uid),
                 score=f"{row['score']:.2f}")
    return t("evaluation.scorecard.option_unrated", unit=names.get(uid, uid))


def show_instruments(annual: pd.DataFrame, t: Translator) -> None:
    st.subheader(t("evaluation.instruments.title"))
    sort_by = st.radio(t("evaluation.instruments.sort"), ("utilisation", "external_share"), horizontal=True,
                       key=widget_key("eval_instrument_sort"), format_func=lambda k: t(f"evaluation.instruments.sort.{k}"))
    frame = instrument_frame(annual, sort_by, t)
    one = st.column_config.NumberColumn(format="%.1f")
    st.dataframe(frame, hide_index=True, width="stretch", height=420, column_config={
        t("evaluation.col.utilisation"): one, t("evaluation.col.external_share"): one,
        t("evaluation.col.effective_hours"): one, t("evaluation.col.external_hours"): one})
    st.caption(t("evaluation.instruments.caption"))


def show_robustness(ctx: PageContext, year: int, choice: WeightChoice, result: scoring.EvaluationResult,
                    baseline_ranks: pd.Series, names: pd.Series) -> None:
    """Rank correlation with the baseline and the drop-one test (cheap, always shown); the Monte
    Carlo analysis on request (kept in the session until the settings change)."""
    t = ctx.t
    rated = result.rated()
    if len(rated) < 2:
        st.info(t("evaluation.robustness.too_few"))
        return
    current = rated["rank"].astype(float)
    rho, tau = scoring.rank_correlation(current, baseline_ranks.astype(float))
    c1, c2 = st.columns(2)
    c1.metric(t("evaluation.robustness.spearman"), _plain_number(rho, 4))
    c2.metric(t("evaluation.robustness.kendall"), _plain_number(tau, 4))
    tie_break = rated[result.scheme.tie_break_group].astype(float)
    normalised = result.normalised.loc[rated.index]

    st.markdown(f"**{t('evaluation.mc.title')}**")
    c1, c2, c3 = st.columns(3)
    noise = c1.slider(t("evaluation.mc.noise"), 0.05, 0.50, step=0.05, key=_default("eval_mc_noise", MC_DEFAULT_NOISE),
                      format="±%.2f")
    draws = int(c2.number_input(t("evaluation.mc.n"), min_value=100, max_value=10000, step=100,
                                key=_default("eval_mc_n", MC_DEFAULT_N)))
    c3.metric(t("evaluation.mc.seed"), str(MC_SEED))
    signature = choice_signature(year, ctx.revision, choice, noise, draws)
    if st.button(t("evaluation.mc.run"), key="eval_mc_run", icon=":material/casino:", type="primary"):
        with st.spinner(t("evaluation.mc.running", n=draws)):
            mc = scoring.monte_carlo_ranks(normalised, result.weights, tie_break, n=draws, noise=noise, seed=MC_SEED,
                                           method=result.scheme.aggregation, floor=result.floor, rule=result.scheme.grade)
        st.session_state["eval_mc_result"] = (signature, mc)
    stored = st.session_state.get("eval_mc_result")
    if stored is None:
        st.info(t("evaluation.mc.not_run"))
    elif stored[0] != signature:
        st.info(t("evaluation.mc.stale"))
    else:
        titles = {key: t(f"evaluation.mc.axis.{key}") for key in ("unit", "rank", "base_rank", "median_rank", "p5_rank", "p95_rank")}
        st.altair_chart(rank_band_chart(rank_band_frame(stored[1], names), titles), width="stretch")
        st.caption(t("evaluation.mc.caption", n=draws, noise=f"{100 * noise:g}", seed=MC_SEED))

    st.markdown(f"**{t('evaluation.drop.title')}**")
    drop = scoring.drop_one_ranks(normalised, result.weights, tie_break, method=result.scheme.aggregation, floor=result.floor)
    drop_frame = drop_one_frame(drop, current, names, t)
    st.dataframe(drop_frame, hide_index=True, width="stretch", height=table_height(len(drop_frame)))
    st.caption(t("evaluation.drop.caption"))


def show_publication(ctx: PageContext, year: int, choice: WeightChoice, result: scoring.EvaluationResult,
                     table: indicators.IndicatorTable) -> None:
    """Publish the live ranking; list the year's publications; check the latest against the store;
    download the public notice of the live or the published ranking."""
    t = ctx.t
    st.markdown(t("evaluation.publish.intro", year=year))
    if st.session_state.pop("eval_published_reset", False):  # untick after a publication
        st.session_state[widget_key("eval_publish_confirm")] = False
    confirmed = st.checkbox(t("evaluation.publish.confirm", year=year), key=widget_key("eval_publish_confirm"),
                            disabled=not choice.applied)
    if not choice.applied:
        st.caption(t("evaluation.publish.not_applied"))
    if st.button(t("evaluation.publish.button"), key="eval_publish", type="primary", icon=":material/publish:",
                 disabled=not (confirmed and choice.applied)):
        done = evaluation.publish(ctx.engine, year, choice.scheme, result, table, actor=PUBLISH_ACTOR)
        pubs = E.published_evaluations(ctx.engine, year)
        fingerprint = pubs.loc[pubs["id"] == done.id, "fingerprint"].iloc[0]
        key = "evaluation.publish.done" if done.created else "evaluation.publish.same"
        st.session_state["eval_published"] = t(key, id=done.id, fingerprint=fingerprint)
        st.session_state["eval_published_reset"] = True
        st.rerun()  # the store changed: read the new revision (publications, baseline)
    if "eval_published" in st.session_state:
        st.success(st.session_state.pop("eval_published"))

    pubs = publications(ctx, year)
    st.markdown(f"**{t('evaluation.publications.title', year=year)}**")
    if pubs.empty:
        st.info(t("evaluation.publications.none"))
    else:
        st.dataframe(publications_frame(pubs, t), hide_index=True, width="stretch")
        show_verification(ctx, int(pubs["id"].iloc[0]))

    st.markdown(f"**{t('evaluation.notice.title')}**")
    current = evaluation.build_snapshot(ctx.engine, year, choice.scheme, result, table)
    sources = {"current": current}
    if not pubs.empty:
        sources["published"] = latest_snapshot(ctx, year)
    which = st.radio(t("evaluation.notice.which"), list(sources), horizontal=True, key=widget_key("eval_notice_source"),
                     format_func=lambda k: t(f"evaluation.notice.{k}"))
    snap = sources[which]
    c1, c2, _ = st.columns([1, 1, 2])
    c1.download_button(t("evaluation.notice.html"), publication.notice_html(snap, t).encode("utf-8"),
                       file_name=f"notice_{year}_{which}.html", mime="text/html", key="eval_notice_html",
                       icon=":material/description:", on_click="ignore")
    c2.download_button(t("evaluation.notice.csv"), publication.notice_csv(snap, t),
                       file_name=f"notice_{year}_{which}.csv", mime="text/csv", key="eval_notice_csv",
                       icon=":material/table:", on_click="ignore")
    st.caption(t("evaluation.notice.fingerprint", fingerprint=snap["fingerprint"]))


def show_verification(ctx: PageContext, pub_id: int) -> None:
    """Recompute the latest publication from the store and say whether it is identical."""
    t = ctx.t
    with st.spinner(t("evaluation.verify.running")):
        outcome = _verify(_url(ctx), ctx.revision, pub_id)
    if outcome.same:
        st.success(t("evaluation.verify.same", id=pub_id, fingerprint=outcome.published_fingerprint))
        return
    changed = ", ".join(str(n) for n in outcome.differences["name"]) or fmt.MISSING
    st.warning(t("evaluation.verify.differs", id=pub_id, count=len(outcome.differences), units=changed))
    if outcome.data_changed:
        st.caption(t("evaluation.verify.data_changed"))
