"""The Streamlit part of the evaluation page: the cached store reads, the weight and method
controls, and the ranking, robustness, publication and scheme-version sections.

The pure display builders these sections draw (frames, texts, the rank-band chart) are in
dashboard/ui/evaluation_frames.py. What does not depend on the weights is cached per year and data
revision (a write bumps the revision, so every cache below is left behind by it): the indicator
table (the store read), its data fingerprint, the ranking under the scheme in force and the
instrument table. A weight change then costs one pass over the small unit × indicator matrix; the
public notice is built only when it is downloaded.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from dashboard import auth, census, evaluation, indicators, publication, scoring, weighting
from dashboard.i18n import Translator
from dashboard.scheme import AGGREGATIONS, GRADE_MODES, GROUP_IDS, METHODS, GradeRule, Scheme, display_name
from dashboard import formatting as fmt
from dashboard.ui.auth_view import denied
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.evaluation_frames import (
    AHP_PAIRS, SAATY_LABELS, WeightChoice, ahp_frame, ahp_result, baseline_table, build_scheme,
    choice_signature, fixed_weight_scheme, default_judgements, definitions_frame, drop_one_frame, grade_text, group_name,
    indicator_name, instrument_frame, judgement_text, move_text, objective_weights, plain_number,
    publications_frame, rank_band_chart, rank_band_frame, ranking_frame, region_names, scorecard_frame,
    same_definition, schemes_frame, setting_problems, table_height, unit_labels, unrated_frame, weights_frame, worst_judgements,
)
from models import db
from models import evaluations as E
from models.services.evaluation import save_scheme

# ------------------------------------------------------------------------------------ constants
WEIGHT_METHODS = ("direct", "ahp", "entropy", "critic", "blend")
SUBJECTIVE = ("direct", "ahp")
OBJECTIVE = ("entropy", "critic")
FOURTH_LABELS = ("较差", "不合格")  # national name / Inner Mongolia name of the fourth grade
MC_SEED = 2016  # fixed, so a Monte Carlo run can be repeated and quoted
MC_DEFAULT_N, MC_DEFAULT_NOISE = 1000, 0.25
PREVIEW_ROWS = 30


# ------------------------------------------------------------------------------------ controls
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


def _table_key(scheme: Scheme) -> tuple:
    """What of a scheme shapes its indicator table: the indicator ids and the minimum number of
    instruments (the live scheme and the scheme in force agree on both)."""
    return tuple(scheme.indicator_ids()), scheme.min_instruments


@st.cache_data(show_spinner=False, max_entries=16)
def _data_fingerprint(url: str, revision: int, year: int, table_key: tuple,
                      _table: indicators.IndicatorTable) -> str:
    return publication.data_fingerprint(_table)


def data_fingerprint(ctx: PageContext, year: int, scheme: Scheme, table: indicators.IndicatorTable) -> str:
    """publication.data_fingerprint of `table` (the indicator table of `year` for `scheme`),
    cached per data revision: it does not change with the weights."""
    return _data_fingerprint(_url(ctx), ctx.revision, year, _table_key(scheme), table)


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


def forget_inputs(scheme: Scheme) -> None:
    """Drop the kept weight and grading inputs (in every language), so that the controls start
    again from the scheme in force; used after a scheme version has been stored."""
    names = set(value_widget_names(scheme) + [f"eval_norm_{i.id}" for i in scheme.indicators]
                + ["eval_aggregation", "eval_grade_mode", "eval_fourth"])
    for key in list(st.session_state):
        if isinstance(key, str) and key.rsplit("@", 1)[0] in names:
            del st.session_state[key]


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


def read_weights(base: Scheme, table: indicators.IndicatorTable, t: Translator) -> WeightChoice:
    """All weight, normalisation and grading controls; returns what to evaluate."""
    if st.session_state.pop("eval_scheme_reseed", False):
        forget_inputs(base)
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



# ------------------------------------------------------------------------------------ store reads and writes
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


@st.cache_data(show_spinner=False, max_entries=8)
def _schemes(url: str, revision: int) -> pd.DataFrame:
    return E.indicator_schemes(db.get_engine(url))


def scheme_versions(ctx: PageContext) -> pd.DataFrame:
    """Stored scheme versions, newest (the one in force) first."""
    return _schemes(_url(ctx), ctx.revision)


def store_scheme_version(engine: Engine, scheme: Scheme, actor) -> tuple[int, bool]:
    """(version, stored): `scheme` saved as the next version of its name, its definition carrying
    that number. Nothing is stored when it is already the scheme in force (the latest stored
    version) apart from the number; an older version's settings are stored again as a new one,
    since saving is how an evaluator puts a scheme in force."""
    stored = E.indicator_schemes(engine)
    latest = E.latest_scheme(engine)
    if latest is not None and same_definition(latest[1], scheme):
        return int(stored["version"].iloc[0]), False
    same_name = stored.loc[stored["name"] == scheme.name, "version"]
    version = int(same_name.max()) + 1 if len(same_name) else 1
    save_scheme(engine, replace(scheme, version=version), actor=actor)
    return version, True


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
    ranks = _scheme_ranks(_url(ctx), ctx.revision, year, base.to_json(), table)
    return ranks, ctx.t("evaluation.baseline.scheme", name=display_name(base.name, ctx.t), version=base.version)


@st.cache_data(show_spinner=False, max_entries=16)
def _scheme_ranks(url: str, revision: int, year: int, scheme_json: str,
                  _table: indicators.IndicatorTable) -> pd.DataFrame:
    """Rank and grade per unit under the scheme itself (the baseline before any publication);
    `_table` is the indicator table of (url, revision, year) for that scheme."""
    result = scoring.evaluate(_table.raw, _table.units, Scheme.from_json(scheme_json))
    return result.table[["rank", "grade"]]


# ------------------------------------------------------------------------------------ sections
def show_definitions(scheme: Scheme, weights: pd.Series, t: Translator) -> None:
    """The definition table (a static table: the formula texts wrap instead of being cut)."""
    frame = definitions_frame(scheme, weights, t)
    st.table(frame.style.format(precision=2), hide_index=True)


def show_scheme_save(ctx: PageContext, choice: WeightChoice) -> None:
    """Store the settings in force (weights, methods, grading) as a new scheme version without
    publishing; the stored version becomes the scheme the page starts from."""
    t = ctx.t
    st.markdown(f"**{t('evaluation.scheme_save.title')}**")
    if not ctx.actor.can(auth.SCHEME_SAVE):
        denied(t, auth.SCHEME_SAVE)
        return
    st.caption(t("evaluation.scheme_save.intro"))
    name = st.text_input(t("evaluation.scheme_save.name"), key=_default("eval_scheme_name", choice.scheme.name),
                         max_chars=200).strip()
    if not choice.applied:
        st.caption(t("evaluation.scheme_save.not_applied"))
    elif not name:
        st.caption(t("evaluation.scheme_save.no_name"))
    if st.button(t("evaluation.scheme_save.button"), key="eval_scheme_save", icon=":material/save:",
                 disabled=not (choice.applied and name)):
        scheme = replace(fixed_weight_scheme(choice.scheme, choice.weights), name=name)
        version, created = store_scheme_version(ctx.engine, scheme, ctx.actor)
        key = "evaluation.scheme_save.done" if created else "evaluation.scheme_save.same"
        st.session_state["eval_scheme_saved"] = (created, t(key, name=fmt.md_text(name), version=version))
        st.session_state["eval_scheme_reseed"] = created
        st.rerun()  # the store changed: the new revision reads the new scheme in force
    if "eval_scheme_saved" in st.session_state:
        created, message = st.session_state.pop("eval_scheme_saved")
        (st.success if created else st.info)(message)


def show_scheme_versions(ctx: PageContext) -> None:
    """The stored scheme versions, newest (in force) first."""
    t = ctx.t
    st.markdown(f"**{t('evaluation.schemes.title')}**")
    schemes = scheme_versions(ctx)
    if schemes.empty:
        st.info(t("evaluation.schemes.none"))
    else:
        st.dataframe(schemes_frame(schemes, t), hide_index=True, width="stretch", height=table_height(len(schemes)))


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
    names = unit_labels(units, t.lang).to_dict()  # a dict: one lookup per unit
    order = list(result.table.index)  # rated by rank, then the others
    rows = result.table
    labels = {uid: _unit_option(uid, status, rank, score, names, t)
              for uid, status, rank, score in zip(order, rows["status"], rows["rank"], rows["score"])}
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


def _unit_option(uid, status: str, rank, score, names: dict, t: Translator) -> str:
    if status == scoring.RATED:
        return t("evaluation.scorecard.option", rank=int(rank), unit=names.get(uid, uid), score=f"{score:.2f}")
    return t("evaluation.scorecard.option_unrated", unit=names.get(uid, uid))


@st.cache_data(show_spinner=False, max_entries=8)
def _instrument_table(url: str, revision: int, year: int, lang: str, sort_by: str, _ctx: PageContext) -> pd.DataFrame:
    """The instrument table of `year` as shown (tens of thousands of rows at province scale),
    per data revision; `_ctx` is the page context of (url, revision), used for the reads."""
    annual = census.annual_frame(read(_ctx, "instruments"), read(_ctx, "usage_by_instrument_year", year), year)
    return instrument_frame(annual, sort_by, Translator(lang))


def show_instruments(ctx: PageContext, year: int) -> None:
    t = ctx.t
    st.subheader(t("evaluation.instruments.title"))
    sort_by = st.radio(t("evaluation.instruments.sort"), ("utilisation", "external_share"), horizontal=True,
                       key=widget_key("eval_instrument_sort"), format_func=lambda k: t(f"evaluation.instruments.sort.{k}"))
    frame = _instrument_table(_url(ctx), ctx.revision, year, t.lang, sort_by, ctx)
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
    c1.metric(t("evaluation.robustness.spearman"), plain_number(rho, 4))
    c2.metric(t("evaluation.robustness.kendall"), plain_number(tau, 4))
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
    if ctx.actor.can(auth.PUBLISH):
        _publish_controls(ctx, year, choice, result, table)
    else:
        denied(t, auth.PUBLISH)

    pubs = publications(ctx, year)
    st.markdown(f"**{t('evaluation.publications.title', year=year)}**")
    if pubs.empty:
        st.info(t("evaluation.publications.none"))
    else:
        st.dataframe(publications_frame(pubs, t), hide_index=True, width="stretch")
        show_verification(ctx, int(pubs["id"].iloc[0]))

    st.markdown(f"**{t('evaluation.notice.title')}**")
    sources = ["current"] if pubs.empty else ["current", "published"]
    which = st.radio(t("evaluation.notice.which"), sources, horizontal=True, key=widget_key("eval_notice_source"),
                     format_func=lambda k: t(f"evaluation.notice.{k}"))
    snap, fingerprint = notice_source(ctx, year, which, choice, result, table)
    c1, c2, _ = st.columns([1, 1, 2])
    # The notice is rendered when a button is pressed (a callable), not on every rerun.
    c1.download_button(t("evaluation.notice.html"), lambda: publication.notice_html(snap(), t).encode("utf-8"),
                       file_name=f"notice_{year}_{which}.html", mime="text/html", key="eval_notice_html",
                       icon=":material/description:", on_click="ignore")
    c2.download_button(t("evaluation.notice.csv"), lambda: publication.notice_csv(snap(), t),
                       file_name=f"notice_{year}_{which}.csv", mime="text/csv", key="eval_notice_csv",
                       icon=":material/table:", on_click="ignore")
    st.caption(t("evaluation.notice.fingerprint", fingerprint=fingerprint))


def notice_source(ctx: PageContext, year: int, which: str, choice: WeightChoice, result: scoring.EvaluationResult,
                  table: indicators.IndicatorTable):
    """(snapshot maker, fingerprint) of the notice to offer: the live ranking ("current") or the
    latest publication ("published"). The live snapshot is only made when asked for; its
    fingerprint is the one publishing it would store (scoring.result_fingerprint)."""
    if which == "published":
        stored = latest_snapshot(ctx, year)
        return (lambda: stored), stored["fingerprint"]
    data_fp = data_fingerprint(ctx, year, choice.scheme, table)
    engine, scheme = ctx.engine, choice.scheme
    return ((lambda: evaluation.build_snapshot(engine, year, scheme, result, table, data_fingerprint=data_fp)),
            scoring.result_fingerprint(result, data_fp))


def _publish_controls(ctx: PageContext, year: int, choice: WeightChoice, result: scoring.EvaluationResult,
                      table: indicators.IndicatorTable) -> None:
    """The confirmation and the publish button (for those who may publish)."""
    t = ctx.t
    if st.session_state.pop("eval_published_reset", False):  # untick after a publication
        st.session_state[widget_key("eval_publish_confirm")] = False
    confirmed = st.checkbox(t("evaluation.publish.confirm", year=year), key=widget_key("eval_publish_confirm"),
                            disabled=not choice.applied)
    if not choice.applied:
        st.caption(t("evaluation.publish.not_applied"))
    if st.button(t("evaluation.publish.button"), key="eval_publish", type="primary", icon=":material/publish:",
                 disabled=not (confirmed and choice.applied)):
        done = evaluation.publish(ctx.engine, year, choice.scheme, result, table, actor=ctx.actor)
        pubs = E.published_evaluations(ctx.engine, year)
        fingerprint = pubs.loc[pubs["id"] == done.id, "fingerprint"].iloc[0]
        key = "evaluation.publish.done" if done.created else "evaluation.publish.same"
        st.session_state["eval_published"] = t(key, id=done.id, fingerprint=fingerprint)
        st.session_state["eval_published_reset"] = True
        st.rerun()  # the store changed: read the new revision (publications, baseline)
    if "eval_published" in st.session_state:
        st.success(st.session_state.pop("eval_published"))


def show_verification(ctx: PageContext, pub_id: int) -> None:
    """Recompute the latest publication from the store and say whether it is identical."""
    t = ctx.t
    with st.spinner(t("evaluation.verify.running")):
        outcome = _verify(_url(ctx), ctx.revision, pub_id)
    if outcome.same:
        st.success(t("evaluation.verify.same", id=pub_id, fingerprint=outcome.published_fingerprint))
        return
    changed = ", ".join(fmt.md_text(n) for n in outcome.differences["name"]) or fmt.MISSING
    st.warning(t("evaluation.verify.differs", id=pub_id, count=len(outcome.differences), units=changed))
    if outcome.data_changed:
        st.caption(t("evaluation.verify.data_changed"))
