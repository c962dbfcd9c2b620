"""What the evaluation page shows, shaped for display: pure builders with no Streamlit call.

Results in, labelled frames (or texts, or an Altair chart) out, so every output can be checked by
hand on literal data; the numbers themselves come from dashboard.scoring and dashboard.weighting.
The widgets, caches and page sections that use these live in dashboard/ui/evaluation_view.py.

Weights flow: every control is read into an effective `Scheme` (group and indicator weights,
aggregation, grading, normalisation methods) plus, for entropy / CRITIC / blend, an override vector
of global weights (`WeightChoice`); `evaluate` then re-scores the small unit × indicator matrix.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from fractions import Fraction

import altair as alt
import numpy as np
import pandas as pd

from dashboard import indicators, publication, scoring, weighting
from dashboard.i18n import Translator
from dashboard.scheme import GROUP_IDS, GradeRule, Scheme, SchemeError, display_name
from dashboard.ui import charts
from dashboard import formatting as fmt
from dashboard.ui.labels import localised

# ------------------------------------------------------------------------------------ constants
MOVE_UP, MOVE_DOWN, NO_MOVE = "↑", "↓", "–"
# Saaty's 1–9 scale and its reciprocals, least to most important (a_ij: i against j).
SAATY_LABELS = tuple(f"1/{k}" for k in range(9, 1, -1)) + tuple(str(k) for k in range(1, 10))
AHP_PAIRS = ((0, 1), (0, 2), (1, 2))  # the upper triangle of the 3 × 3 group matrix
SAME_DEVIATION = 1e-6  # judgements deviating equally (up to this) are named together
ROW_PX, MAX_TABLE_PX = 35, 1100  # st.dataframe row height; taller tables scroll


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
            "raw": plain_number(row["raw"], 4),
            "normalised": plain_number(row["normalised"], 2),
            "weight": plain_number(100 * row["weight"], 2),
            "contribution": plain_number(row["contribution"], 3),
            **({"factor": plain_number(row["factor"], 4)} if geometric else {}),
        })
    total = {"group": t("evaluation.scorecard.total"), "indicator": "", "raw": "", "normalised": "",
             "weight": plain_number(100 * card["weight"].sum(), 2),
             "contribution": plain_number(card["contribution"].sum(), 3) if card["contribution"].notna().any() else fmt.MISSING}
    if geometric:
        total["factor"] = plain_number(card["factor"].prod(), 4) if card["factor"].notna().all() else fmt.MISSING
    rows.append(total)
    frame = pd.DataFrame(rows)
    return frame.rename(columns={key: t(f"evaluation.scorecard.{key}") for key in frame.columns})


def table_height(rows: int) -> int:
    """Pixel height showing every row of a data frame (plus its header), up to MAX_TABLE_PX."""
    return min(MAX_TABLE_PX, ROW_PX * (rows + 1) + 3)


def plain_number(value, decimals: int) -> str:
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
        t("evaluation.col.scheme"): [f"{display_name(n, t)} v{v}" if isinstance(n, str) else fmt.MISSING
                                     for n, v in zip(pubs["scheme_name"], pubs["scheme_version"])],
        t("evaluation.col.published_by"): pubs["published_by"].values,
        t("evaluation.col.fingerprint"): pubs["fingerprint"].values,
    })



# ------------------------------------------------------------------------------------ scheme versions
def fixed_weight_scheme(scheme: Scheme, weights: pd.Series | None) -> Scheme:
    """`scheme` carrying the global `weights` (entropy, CRITIC or blend; summing to 1) as its own
    group and within-group weights, so that a stored copy ranks as the page does: group weight
    = 100 × group share, indicator weight = 100 × its share of the group. A group without weight
    keeps its indicators' weights (they only shape its displayed group score)."""
    if weights is None:
        return scheme
    shares = group_shares(weights, scheme)
    indicator_weights = {i.id: 100 * float(weights[i.id]) / shares[i.group]
                         for i in scheme.indicators if shares[i.group] > 0}
    return scheme.with_weights({g: 100 * float(shares[g]) for g in GROUP_IDS}, indicator_weights)


def same_definition(a: Scheme, b: Scheme) -> bool:
    """Equal apart from the version number (which the store assigns)."""
    return replace(a, version=0) == replace(b, version=0)


def schemes_frame(schemes: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Stored scheme versions, newest first (as models.evaluations.indicator_schemes returns
    them); the first row is the scheme in force."""
    return pd.DataFrame({
        t("evaluation.col.scheme_name"): [display_name(n, t) for n in schemes["name"]],
        t("evaluation.col.scheme_version"): schemes["version"].astype(int).values,
        t("evaluation.col.created_at"): pd.to_datetime(schemes["created_at"]).dt.strftime("%Y-%m-%d %H:%M").values,
        t("evaluation.col.created_by"): schemes["created_by"].values,
        t("evaluation.col.in_force"): [t("evaluation.schemes.in_force") if k == 0 else "" for k in range(len(schemes))],
    })


# ------------------------------------------------------------------------------------ choice
@dataclass(frozen=True)
class WeightChoice:
    """The evaluation the controls ask for: `scheme` (settings in force) and, for entropy, CRITIC
    and blends, `weights` (global weights overriding the scheme's; None = the scheme's)."""

    scheme: Scheme
    weights: pd.Series | None
    method: str
    applied: bool  # False when the requested settings were rejected and the base is shown



def objective_weights(kind: str, table: indicators.IndicatorTable, scheme: Scheme) -> pd.Series:
    """Entropy or CRITIC weights from the normalised matrix (0–100, larger better) of the rated
    units under `scheme`'s normalisation."""
    rated = table.units.index[table.units["status"] == scoring.RATED]
    normalised = scoring.normalise_table(table.raw.reindex(index=rated, columns=scheme.indicator_ids()), scheme)
    compute = weighting.entropy if kind == "entropy" else weighting.critic
    return pd.Series(compute(normalised.to_numpy(float)), index=scheme.indicator_ids())



def evaluate(table: indicators.IndicatorTable, choice: WeightChoice) -> scoring.EvaluationResult:
    return scoring.evaluate(table.raw, table.units, choice.scheme, choice.weights)


def choice_signature(year: int, revision: int, choice: WeightChoice, *extra) -> str:
    """A key of everything a robustness run depends on, to tell a stale result from a current one."""
    weights = "" if choice.weights is None else choice.weights.round(12).to_json()
    text = "|".join([str(year), str(revision), choice.scheme.to_json(), weights, *map(str, extra)])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

