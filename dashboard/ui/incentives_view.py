"""The Streamlit part of the incentives page: cached inputs and outcomes, the controls (the few
that matter in front, the rest in expanders), the consequences beside them, the tables, and the
scenario actions (save, load, compare, shareable link, meeting brief).

Numbers come from `dashboard.scenarios.outcome` (the same function the meeting brief uses, so the
page and the brief agree); display frames are built in dashboard/ui/incentives_frames.py.

Control state: every control is a widget whose value lives in session state under
`widget_key(name)`; the starting values are seeded once from the page defaults, and loading a
scenario (button, or the `?scenario=<id>` link) overwrites them before the widgets are drawn.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard import formatting as fmt
from dashboard import quality
from dashboard import incentives as I
from dashboard import sanctions as S
from dashboard import scenarios as SC
from dashboard.brief_html import BriefMeta, render_brief
from dashboard.i18n import Translator
from dashboard.national import CLIENT_KINDS
from dashboard.scheme import GROUP_IDS, Scheme
from dashboard.ui import evaluation_view
from dashboard.ui import incentives_frames as F
from dashboard.ui.auth_view import denied
from dashboard.ui import widgets
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.evaluation_frames import group_name, table_height
from models import db, queries
from models.services import scenarios as store

EVALUATION_PAGE = "pages/evaluation.py"
LOADED = "inc_loaded"  # session: {"id", "name", "note", "state"} of the scenario in the controls
LINK_DONE = "inc_link_done"  # session: the ?scenario= value already applied in this session
FLASH = "inc_flash"  # session: (kind, text) shown once after a rerun
LINK_PARAM = "scenario"
LOAD_CHOICE, BASELINE_CHOICE, COMPARE_CHOICE = "inc_load_choice", "inc_baseline", "inc_compare"
SAVE_NAME, SAVE_NOTE = "inc_save_name", "inc_save_note"
CURRENT, DEFAULTS = "current", "defaults"


# ------------------------------------------------------------------------------------ cached reads
def _url(ctx: PageContext) -> str:
    return ctx.engine.url.render_as_string(hide_password=False)


# The year's inputs and the outcomes are kept as objects (cache_resource), not as pickles
# (cache_data): a pickled copy of the inputs — the year's service records among them, 716,000 at
# national scale — was unpickled again on every use (twice in a first run), and the memo of
# voucher simulations and sanction results the inputs carry (dashboard.scenarios) was lost with
# each copy. Both are keyed by the data revision like every cached read, and nothing here or in
# dashboard.scenarios changes a frame it is given, so sharing them across runs and sessions is safe.
@st.cache_resource(show_spinner=False, max_entries=3)
def _inputs(url: str, revision: int, year: int, scheme_json: str, as_of: str, _ctx: PageContext) -> SC.ScenarioInputs:
    scheme = Scheme.from_json(scheme_json)
    # The service records are read here rather than through the cached reads: the inputs are
    # cached already, and only the columns the page's numbers use are read.
    return SC.inputs_from_frames(
        year, evaluation_view.indicator_table(_ctx, year, scheme), scheme,
        units=read(_ctx, "units"), instruments=read(_ctx, "instruments"),
        usage=read(_ctx, "usage_by_instrument_year", year), submissions=read(_ctx, "submissions", year),
        services=queries.services_for_incentives(db.get_engine(url), year), as_of=pd.Timestamp(as_of).date())


def scenario_inputs(ctx: PageContext, year: int, scheme: Scheme) -> SC.ScenarioInputs:
    """The year's evaluation table, service records and sanction inputs, built once per data
    revision from the cached reads (the evaluation page's indicator table included)."""
    return _inputs(_url(ctx), ctx.revision, year, scheme.to_json(), quality.local_today().isoformat(), ctx)


@st.cache_resource(show_spinner=False, max_entries=16)
def _outcome(url: str, revision: int, year: int, scheme_json: str, as_of: str, params_json: str, name: str,
             _ctx: PageContext) -> SC.ScenarioOutcome:
    inputs = _inputs(url, revision, year, scheme_json, as_of, _ctx)
    return SC.outcome(SC.ScenarioParams.from_json(params_json), inputs, name=name)


def outcome(ctx: PageContext, year: int, scheme: Scheme, params: SC.ScenarioParams, name: str = "") -> SC.ScenarioOutcome:
    """`dashboard.scenarios.outcome` of `params`, cached per data revision and settings."""
    return _outcome(_url(ctx), ctx.revision, year, scheme.to_json(), quality.local_today().isoformat(),
                    params.to_json(), name, ctx)


def saved_scenarios(ctx: PageContext) -> pd.DataFrame:
    """Saved scenarios (id, name, note, created_at, created_by), newest first."""
    return read(ctx, "scenarios")


@st.cache_data(show_spinner=False, max_entries=32)
def _stored(url: str, revision: int, scenario_id: int) -> store.StoredScenario:
    return store.load_scenario(db.get_engine(url), scenario_id)


def stored_scenario(ctx: PageContext, scenario_id: int) -> store.StoredScenario:
    return _stored(_url(ctx), ctx.revision, int(scenario_id))


def demo_seed(ctx: PageContext) -> str | None:
    return read(ctx, "store_meta", "demo_seed")


# ------------------------------------------------------------------------------------ control state
def seed_controls(defaults: dict[str, Any]) -> None:
    """Give every control its starting value once (a value already in session state wins)."""
    for name in F.CONTROL_NAMES:
        st.session_state.setdefault(widget_key(name), defaults[name])


def put_controls(state: dict[str, Any]) -> None:
    """Overwrite every control's value (before the widgets are drawn in this run)."""
    for name in F.CONTROL_NAMES:
        st.session_state[widget_key(name)] = state[name]


def current_state() -> dict[str, Any]:
    return {name: st.session_state[widget_key(name)] for name in F.CONTROL_NAMES}


def _flash(kind: str, text: str) -> None:
    widgets.flash(FLASH, kind, text)


def show_flash() -> None:
    widgets.show_flash(FLASH)


def _apply_scenario(ctx: PageContext, scheme: Scheme, scenario_id: int) -> None:
    """Put a saved scenario into the controls; an error message from the catalogue otherwise."""
    t = ctx.t
    try:
        saved = store.load_scenario(ctx.engine, int(scenario_id))
        state = F.state_from_params(saved.params, scheme)
    except SC.ScenarioError as exc:
        _flash("error", t("incentives.scenario.load_failed", id=scenario_id, reason=exc.message(t)))
        return
    put_controls(state)
    st.session_state[LOADED] = {"id": saved.id, "name": saved.name, "note": saved.note, "state": state}
    st.query_params[LINK_PARAM] = str(saved.id)
    _flash("success", t("incentives.scenario.loaded", id=saved.id, name=fmt.md_text(saved.name)))


def _load_clicked(ctx: PageContext, scheme: Scheme) -> None:
    choice = st.session_state.get(widget_key(LOAD_CHOICE))
    if choice is not None:
        _apply_scenario(ctx, scheme, int(choice))


def _reset_clicked(ctx: PageContext, scheme: Scheme) -> None:
    put_controls(F.state_from_params(F.default_params(scheme), scheme))
    st.session_state.pop(LOADED, None)
    if LINK_PARAM in st.query_params:
        del st.query_params[LINK_PARAM]
    _flash("success", ctx.t("incentives.scenario.reset_done"))


def apply_link(ctx: PageContext, scheme: Scheme) -> None:
    """Open the scenario named by `?scenario=<id>` once per session (and again when the link
    names another one)."""
    value = st.query_params.get(LINK_PARAM)
    if not value or st.session_state.get(LINK_DONE) == value:
        return
    st.session_state[LINK_DONE] = value
    loaded = st.session_state.get(LOADED)
    if loaded and str(loaded["id"]) == value:
        return
    if not value.strip().isdigit():
        _flash("error", ctx.t("incentives.scenario.bad_link", value=value))
        return
    _apply_scenario(ctx, scheme, int(value))


def prepare_controls(ctx: PageContext, scheme: Scheme) -> dict[str, Any]:
    """Seed the controls, apply a shared link; returns the page defaults (control values)."""
    defaults = F.state_from_params(F.default_params(scheme), scheme)
    seed_controls(defaults)
    st.session_state.setdefault(widget_key(F.MARGIN), F.DEFAULT_MARGIN)
    apply_link(ctx, scheme)
    return defaults


# ------------------------------------------------------------------------------------ layout
@dataclass
class Front:
    """Places of the front section: controls drawn first, consequences filled in afterwards."""

    errors: Any
    headline: Any
    pool: Any
    pool_result: Any
    grades: Any
    grades_result: Any
    sanctions: Any
    sanction_rows: dict
    sanctions_total: Any
    vouchers: Any
    vouchers_result: Any


def _box_title(text: str, help_text: str | None = None) -> None:
    st.markdown(f"**{text}**", help=help_text)


def front(t: Translator) -> Front:
    """Headline figures, then one box per control that matters — pool, grade lines, sanction
    switches, vouchers — each with the controls on the left and their consequences beside them."""
    errors = st.container()
    headline = st.container()
    with st.container(border=True):
        _box_title(t("incentives.box.pool"), t("incentives.box.pool.help"))
        pool, pool_result = st.columns([1, 3], gap="large", vertical_alignment="top")
    with st.container(border=True):
        _box_title(t("incentives.box.grades"), t("incentives.box.grades.help"))
        grades, grades_result = st.columns([5, 6], gap="large", vertical_alignment="top")
    with st.container(border=True):
        _box_title(t("incentives.box.sanctions"), t("incentives.box.sanctions.help"))
        sanctions = st.container()
        rows = {rule_id: st.columns([4, 3, 5], vertical_alignment="center") for rule_id in S.RULE_IDS}
        sanctions_total = st.container()
    with st.container(border=True):
        _box_title(t("incentives.box.vouchers"), t("incentives.box.vouchers.help"))
        vouchers, vouchers_result = st.columns([2, 3], gap="large", vertical_alignment="top")
    return Front(errors, headline, pool, pool_result, grades, grades_result, sanctions, rows,
                 sanctions_total, vouchers, vouchers_result)


# ------------------------------------------------------------------------------------ controls
def _k(name: str) -> str:
    return widget_key(name)


def _money_input(label: str, name: str, help_text: str | None = None, disabled: bool = False,
                 container=st) -> None:
    container.number_input(label, min_value=0.0, step=10.0, format="%.2f", key=_k(name),
                           help=help_text, disabled=disabled)


def read_front_controls(f: Front, scheme: Scheme, t: Translator) -> None:
    """The pool, the grade lines, the sanction switches and the voucher ratio and pool."""
    with f.pool:
        _money_input(t("incentives.control.pool"), F.POOL, t("incentives.control.pool.help"))
    with f.grades:
        labels = scheme.grade.labels()
        for col, (k, name) in zip(st.columns(len(F.BANDS)), enumerate(F.BANDS)):
            col.number_input(t("incentives.control.band", grade=F.grade_text(labels[k], t)), min_value=0.0,
                             max_value=100.0, step=1.0, format="%g", key=_k(name))
    for rule_id in S.RULE_IDS:
        switch, _, _ = f.sanction_rows[rule_id]
        switch.toggle(t(f"sanctions.rule.{rule_id}"), key=_k(F.RULE_ON[rule_id]),
                      help=t(f"sanctions.rule.{rule_id}.help"))
    with f.vouchers:
        on = st.toggle(t("vouchers.control.on"), key=_k(F.V_ON))
        st.slider(t("vouchers.control.ratio"), min_value=1, max_value=100, step=1, format="%d%%", key=_k(F.V_RATIO),
                  disabled=not on, help=t("vouchers.control.ratio.help"))
        st.caption(F.reference_text("voucher_ratio", t))
        pool_on = st.checkbox(t("vouchers.control.pool_on"), key=_k(F.V_POOL_ON), disabled=not on)
        _money_input(t("vouchers.control.pool"), F.V_POOL, t("vouchers.control.pool.help"), disabled=not (on and pool_on))


def read_reward_details(t: Translator, scheme: Scheme) -> None:
    """Eligibility, basis, caps and the boundary margin (expander)."""
    with st.expander(t("incentives.more.reward"), icon=":material/tune:"):
        c1, c2, c3 = st.columns(3, gap="medium")
        with c1:
            options = [g for g in F.GRADE_CHOICES if g in scheme.grade.labels() or g in st.session_state[_k(F.GRADES_ELIGIBLE)]]
            st.multiselect(t("incentives.control.eligible_grades"), options, key=_k(F.GRADES_ELIGIBLE),
                           format_func=lambda g: F.grade_text(g, t), help=t("incentives.control.eligible_grades.help"))
            on = st.checkbox(t("incentives.control.min_score_on"), key=_k(F.MIN_SCORE_ON))
            st.number_input(t("incentives.control.min_score"), min_value=0.0, max_value=100.0, step=1.0, format="%g",
                            key=_k(F.MIN_SCORE), disabled=not on)
        with c2:
            st.selectbox(t("incentives.control.basis"), I.BASIS_KINDS, key=_k(F.BASIS),
                         format_func=lambda b: t(f"incentives.basis.{b}"), help=t("incentives.control.basis.help"))
            st.number_input(t("incentives.control.margin"), min_value=0.0, max_value=20.0, step=0.5, format="%g",
                            key=_k(F.MARGIN), help=t("incentives.control.margin.help"))
        with c3:
            cap_on = st.checkbox(t("incentives.control.cap_on"), key=_k(F.CAP_ON))
            _money_input(t("incentives.control.cap"), F.CAP, disabled=not cap_on)
            share_on = st.checkbox(t("incentives.control.cap_share_on"), key=_k(F.CAP_SHARE_ON))
            st.number_input(t("incentives.control.cap_share"), min_value=0.0, step=5.0, format="%g",
                            key=_k(F.CAP_SHARE), disabled=not share_on)
        st.caption(t("incentives.more.reward.caption"))


def _consequence_inputs(rule_id: str, t: Translator) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.checkbox(t("sanctions.consequence.public_notice"), key=_k(F.CONSEQUENCE[(rule_id, "notice")]))
    c2.checkbox(t("sanctions.consequence.no_post_subsidy"), key=_k(F.CONSEQUENCE[(rule_id, "nopost")]))
    c3.number_input(t("sanctions.control.rectification_years"), min_value=0, max_value=S.MAX_YEARS, step=1,
                    key=_k(F.CONSEQUENCE[(rule_id, "rect")]))
    c4.number_input(t("sanctions.control.purchase_years"), min_value=0, max_value=S.MAX_YEARS, step=1,
                    key=_k(F.CONSEQUENCE[(rule_id, "purchase")]))


def read_sanction_details(t: Translator) -> None:
    """Every rule's thresholds and consequences (expander)."""
    with st.expander(t("incentives.more.sanctions"), icon=":material/gavel:"):
        for rule_id in S.RULE_IDS:
            st.markdown(f"**{t(f'sanctions.rule.{rule_id}')}**")
            if rule_id == S.POOR_GRADE:
                st.multiselect(t("sanctions.control.poor_grades"), list(F.GRADE_CHOICES), key=_k(F.POOR_GRADES),
                               format_func=lambda g: F.grade_text(g, t))
            elif rule_id == S.NOT_REPORTING:
                c1, c2 = st.columns(2)
                on = c1.checkbox(t("sanctions.control.missing_on"), key=_k(F.MISSING_ON))
                c2.number_input(t("sanctions.control.missing"), min_value=1, step=1, key=_k(F.MISSING),
                                disabled=not on)
            elif rule_id == S.LATE_REPORTING:
                c1, c2, c3, c4 = st.columns(4)
                late_on = c1.checkbox(t("sanctions.control.late_on"), key=_k(F.LATE_ON))
                c2.number_input(t("sanctions.control.late"), min_value=1, step=1, key=_k(F.LATE),
                                disabled=not late_on)
                days_on = c3.checkbox(t("sanctions.control.days_on"), key=_k(F.DAYS_ON))
                c4.number_input(t("sanctions.control.days"), min_value=1, step=1, key=_k(F.DAYS),
                                disabled=not days_on)
            elif rule_id == S.NOMINALLY_OPEN:
                c1, c2 = st.columns(2)
                c1.number_input(t("sanctions.control.nominal_min"), min_value=1, step=1,
                                key=_k(F.NOMINAL_MIN))
                c2.number_input(t("sanctions.control.nominal_ratio"), min_value=0.0, step=1.0,
                                format="%g", key=_k(F.NOMINAL_RATIO), help=t("sanctions.control.nominal_ratio.help"))
            elif rule_id == S.IDLE_SHARE:
                c1, c2 = st.columns(2)
                c1.number_input(t("sanctions.control.idle_share"), min_value=0.0, max_value=100.0, step=5.0,
                                format="%g", key=_k(F.IDLE_SHARE), help=t("sanctions.control.idle_share.help"))
                c2.number_input(t("sanctions.control.idle_min"), min_value=1, step=1, key=_k(F.IDLE_MIN))
            _consequence_inputs(rule_id, t)
        st.caption(t("incentives.more.sanctions.caption"))


def read_voucher_details(t: Translator) -> None:
    """Voucher caps, eligible clients, holders' share and the demand-uplift assumption (expander)."""
    with st.expander(t("incentives.more.vouchers"), icon=":material/confirmation_number:"):
        c1, c2, c3 = st.columns(3, gap="medium")
        with c1:
            app_on = st.checkbox(t("vouchers.control.app_on"), key=_k(F.V_APP_ON))
            _money_input(t("vouchers.control.app"), F.V_APP, disabled=not app_on)
            st.caption(F.reference_text("per_application_cap_cny", t) + " " + F.default_source_text("per_application_cap_cny", t))
            firm_on = st.checkbox(t("vouchers.control.firm_on"), key=_k(F.V_FIRM_ON))
            _money_input(t("vouchers.control.firm"), F.V_FIRM, disabled=not firm_on)
            st.caption(F.reference_text("per_firm_annual_cap_cny", t) + " " + F.default_source_text("per_firm_annual_cap_cny", t))
        with c2:
            st.multiselect(t("vouchers.control.kinds"), list(CLIENT_KINDS), key=_k(F.V_KINDS),
                           format_func=lambda k: t.enum("client_kind", k))
            st.caption(F.default_source_text("eligible_client_kinds", t))
            st.checkbox(t("vouchers.control.external"), key=_k(F.V_EXTERNAL), help=t("vouchers.control.external.help"))
        with c3:
            st.number_input(t("vouchers.control.share"), min_value=0.0, max_value=100.0, step=5.0, format="%g",
                            key=_k(F.V_SHARE), help=t("vouchers.control.share.help"))
            st.caption(F.reference_text("holder_redemption_share", t))
            st.number_input(t("vouchers.control.uplift"), min_value=0.0, step=5.0, format="%g",
                            key=_k(F.V_UPLIFT), help=t("vouchers.control.uplift.help"))
            st.caption(t("vouchers.control.uplift.caption"))


def read_weight_details(t: Translator, scheme: Scheme) -> None:
    with st.expander(t("incentives.more.weights"), icon=":material/balance:"):
        st.caption(t("incentives.more.weights.caption"))
        cols = st.columns(len(GROUP_IDS))
        for col, g, name in zip(cols, GROUP_IDS, F.GROUP_WEIGHTS):
            col.number_input(group_name(g, t), min_value=0.0, step=1.0, format="%g", key=_k(name))


def read_controls(f: Front, scheme: Scheme, t: Translator) -> dict[str, Any]:
    read_front_controls(f, scheme, t)
    read_reward_details(t, scheme)
    read_sanction_details(t)
    read_voucher_details(t)
    read_weight_details(t, scheme)
    return current_state()


def margin() -> float:
    """Points either side of a line that count as near it (boundary table)."""
    return float(st.session_state[_k(F.MARGIN)])


# ------------------------------------------------------------------------------------ consequences
def _metrics(cards: list[F.Card], border: bool = False) -> None:
    """Figures side by side, each as wide as its value, wrapping to the next line when the row
    is full (a money figure is never cut off)."""
    with st.container(horizontal=True, gap="small" if border else "large"):
        for card in cards:
            st.metric(card.label, card.value, help=card.help or None, border=border, width="content")


def show_headline(f: Front, o: SC.ScenarioOutcome, t: Translator) -> None:
    with f.headline:
        _metrics(F.headline_cards(o, t), border=True)


def show_consequences(f: Front, o: SC.ScenarioOutcome, reach: pd.Series, t: Translator) -> None:
    with f.pool_result:
        _metrics(F.reward_cards(o, t))
        st.caption(t("incentives.lambda", lam=f"{o.reward.lam:,.2f}", basis=t(f"incentives.basis.{o.params.reward.basis}")))
    with f.grades_result:
        _metrics(F.grade_cards(o, t))
    rules = o.params.sanctions
    for rule_id in S.RULE_IDS:
        _, reach_col, consequence_col = f.sanction_rows[rule_id]
        enabled = bool(rules.rule(rule_id).enabled) if rules else False
        text = F.rule_reach_text(rule_id, enabled, int(reach[rule_id]), t)
        reach_col.markdown(f"**{text}**" if enabled else f":gray[{text}]")
        consequence_col.caption(F.consequence_ids_text(rules.rule(rule_id).consequences if rules else S.Consequences(), t))
    with f.sanctions_total:
        st.caption(t("sanctions.total", sanctioned=int(o.totals["sanctioned_units"]), excluded=int(o.totals["excluded_units"])))
    with f.vouchers_result:
        if o.vouchers is None:
            st.info(t("vouchers.off"), icon=":material/toggle_off:")
        else:
            _metrics(F.voucher_cards(o, t))
            st.caption(t("vouchers.post_subsidy_line", paid=fmt.money(o.totals["voucher_post_subsidy_cny"], t),
                         share=F.share_text(o.params.vouchers.holder_redemption_share)))


def show_setting_error(f: Front, exc: SC.ScenarioError, t: Translator) -> None:
    with f.errors:
        st.error(t("incentives.setting_error", reason=exc.message(t)), icon=":material/error:")


# ------------------------------------------------------------------------------------ tables
def _decimal_columns(frame: pd.DataFrame, decimals: int = 2) -> dict:
    """Two decimals for every fractional column (money in 万元, scores, points)."""
    return {c: st.column_config.NumberColumn(format=f"%.{decimals}f") for c in frame.columns
            if pd.api.types.is_float_dtype(frame[c])}


def _table(frame: pd.DataFrame, max_rows: int | None = None) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", column_config=_decimal_columns(frame),
                 height=table_height(len(frame)) if max_rows is None else table_height(min(len(frame), max_rows)))


def show_rewards(o: SC.ScenarioOutcome, t: Translator) -> None:
    r = o.params.reward
    st.caption(t("incentives.rewards.caption", pool=fmt.money(r.pool_cny, t), paid=fmt.money(o.reward.total, t),
                 unspent=fmt.money(o.reward.unspent, t), units=int(o.totals["rewarded_units"]),
                 eligible=int(o.units["eligible"].sum())))
    _table(F.reward_frame(o, t))


# The sanctions table of a sanction outcome, per language. Outcomes that differ only in money
# (the pool, a cap, vouchers) share one SanctionOutcome (dashboard.scenarios memoises it on the
# cached inputs), so moving the pool does not rebuild and re-word the list (0.35 s for 1,800
# sanctioned units); the entry goes with the outcome it was built from.
_SANCTION_TABLES: "weakref.WeakKeyDictionary[S.SanctionOutcome, dict[str, pd.DataFrame]]" = weakref.WeakKeyDictionary()
_SANCTION_TABLES_LOCK = threading.Lock()


def _sanctions_table(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs, t: Translator) -> pd.DataFrame:
    if o.sanctions is None:
        return F.sanctions_frame(o, t)
    with _SANCTION_TABLES_LOCK:
        found = _SANCTION_TABLES.get(o.sanctions, {}).get(t.lang)
    if found is None:
        found = F.sanctions_frame(o, t, F.candidate_labels(o, inputs, t.lang)).map(fmt.md_text)
        with _SANCTION_TABLES_LOCK:
            _SANCTION_TABLES.setdefault(o.sanctions, {})[t.lang] = found
    return found


def show_sanctions(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs, t: Translator) -> None:
    frame = _sanctions_table(o, inputs, t)
    if frame.empty:
        st.info(t("sanctions.none"), icon=":material/verified:")
        return
    st.caption(t("sanctions.list.caption", count=len(frame), year=o.year, next_year=o.year + 1))
    st.table(frame, hide_index=True)  # a static table: the evidence is text and must wrap


def show_purchase_flags(o: SC.ScenarioOutcome, requests: pd.DataFrame, t: Translator) -> None:
    """The purchase requests of restricted applicants that the joint review must be warned about
    (`sanctions.flag_purchase_requests`), or a line saying there are none."""
    st.markdown(f"**{t('incentives.purchase.title')}**", help=t("incentives.purchase.help"))
    flagged = F.flagged_requests(o, requests)
    if flagged.empty:
        st.caption(t("incentives.purchase.none", next_year=o.year + 1))
        return
    st.caption(t("incentives.purchase.caption", count=len(flagged), units=flagged["applicant_unit_id"].nunique()))
    _table(F.purchase_flags_frame(flagged, t))


def show_boundary(o: SC.ScenarioOutcome, inputs: SC.ScenarioInputs, margin_points: float, t: Translator) -> None:
    if o.grade_rule().mode != "bands":
        st.info(t("incentives.boundary.not_bands"))
        return
    found = F.boundary(o, inputs, margin_points)
    st.caption(t("incentives.boundary.caption", margin=fmt.trimmed(margin_points)))
    if found.empty:
        st.info(t("incentives.boundary.none", margin=fmt.trimmed(margin_points)), icon=":material/check:")
        return
    _table(F.boundary_frame(found, o, t))


def show_vouchers(o: SC.ScenarioOutcome, t: Translator) -> None:
    v = o.vouchers
    if v is None:
        st.info(t("vouchers.off"), icon=":material/toggle_off:")
        return
    pool = v.params.pool_cny
    st.caption(t("vouchers.summary", year=o.year, eligible=v.eligible_services, covered=v.services_covered,
                 firms=v.firms_served, spend=fmt.money(v.spend_cny, t), demand=fmt.money(v.demand_cny, t),
                 pool=fmt.money(pool, t) if pool is not None else t("vouchers.unlimited")))
    if v.params.demand_uplift > 0:
        st.warning(t("vouchers.uplift_warning", uplift=F.share_text(v.params.demand_uplift),
                     est=fmt.number(v.services_covered_est, 1)), icon=":material/science:")
    chart_col, table_col = st.columns([4, 3], gap="large")
    with chart_col:
        st.markdown(f"**{t('vouchers.burn_down.title')}**")
        titles = {"month": t("vouchers.chart.month"), "amount": t("vouchers.chart.amount"),
                  "spend": t("vouchers.chart.spend"),
                  "cumulative": t("vouchers.chart.cumulative"),
                  "pool": t("vouchers.chart.pool", pool=fmt.money(pool, t)) if pool is not None else "",
                  "runs_out": t("vouchers.chart.runs_out")}
        chart = F.burn_down_chart(F.burn_down_frame(v, t), None if pool is None else pool / 1e4,
                                  v.pool_exhausted_month, titles)
        st.altair_chart(chart, width="stretch")
        if v.pool_exhausted_month is not None:
            st.caption(t("vouchers.runs_out_text", month=F.month_text(v.pool_exhausted_month, t),
                         refused=v.refused_for_pool))
        elif pool is not None:
            st.caption(t("vouchers.not_exhausted_text", left=fmt.money(v.pool_remaining_cny, t)))
    with table_col:
        st.markdown(f"**{t('vouchers.limits.title')}**")
        st.dataframe(F.limits_frame(v, t), hide_index=True, width="stretch")
        st.markdown(f"**{t('vouchers.exclusions.title')}**")
        st.dataframe(F.exclusions_frame(v, t), hide_index=True, width="stretch")
    st.markdown(f"**{t('vouchers.holders.title')}**")
    holders = F.holders_frame(o, t)
    if holders.empty:
        st.info(t("vouchers.holders.none"))
    else:
        _table(holders)


def show_definitions(params: SC.ScenarioParams, t: Translator) -> None:
    with st.expander(t("incentives.definitions"), icon=":material/functions:"):
        st.table(F.definitions_frame(params, t), hide_index=True)
        st.caption(t("incentives.definitions.caption"))


# ------------------------------------------------------------------------------------ scenarios
def show_scenario_bar(ctx: PageContext, scheme: Scheme, state: dict[str, Any] | None) -> None:
    """Which scenario is in the controls, and loading another one or the defaults."""
    t = ctx.t
    saved = saved_scenarios(ctx)
    loaded = st.session_state.get(LOADED)
    with st.container(border=True):
        status, choose, load, reset = st.columns([5, 4, 1.3, 1.6], vertical_alignment="bottom")
        with status:
            if loaded:
                changed = state is not None and F.changed_from(state, loaded["state"])
                key = "incentives.scenario.status_changed" if changed else "incentives.scenario.status"
                st.markdown(t(key, id=loaded["id"], name=fmt.md_text(loaded["name"])))
                if loaded.get("note"):
                    st.caption(t("incentives.scenario.note", note=fmt.md_text(loaded["note"])))
            else:
                st.markdown(t("incentives.scenario.status_defaults"))
        ids = [int(i) for i in saved["id"]]
        labels = {int(r["id"]): F.scenario_label(r, t) for r in saved.to_dict("records")}
        if ids:
            if st.session_state.get(_k(LOAD_CHOICE)) not in ids:
                st.session_state[_k(LOAD_CHOICE)] = ids[0]
            choose.selectbox(t("incentives.scenario.choose"), ids, key=_k(LOAD_CHOICE), format_func=lambda i: labels[i])
            load.button(t("incentives.scenario.load"), on_click=_load_clicked, args=(ctx, scheme), width="stretch")
        else:
            choose.caption(t("incentives.scenario.none_saved"))
        reset.button(t("incentives.scenario.reset"), on_click=_reset_clicked, args=(ctx, scheme), width="stretch")


def _save(ctx: PageContext, params: SC.ScenarioParams, state: dict[str, Any]) -> None:
    t = ctx.t
    name = st.session_state.get(_k(SAVE_NAME), "")
    note = st.session_state.get(_k(SAVE_NOTE), "")
    try:
        new_id = store.save_scenario(ctx.engine, name, note, params, actor=ctx.actor)
    except SC.ScenarioError as exc:
        st.session_state["inc_save_error"] = exc.message(t)
        return
    st.session_state.pop("inc_save_error", None)
    st.session_state[LOADED] = {"id": new_id, "name": name.strip(), "note": (note or "").strip(), "state": state}
    st.session_state[LINK_DONE] = str(new_id)
    st.query_params[LINK_PARAM] = str(new_id)
    _flash("success", t("incentives.scenario.saved", id=new_id, name=fmt.md_text(name.strip())))


def show_save(ctx: PageContext, params: SC.ScenarioParams | None, state: dict[str, Any]) -> None:
    t = ctx.t
    st.markdown(f"**{t('incentives.scenario.save.title')}**")
    if not ctx.actor.can(auth.SCENARIO_SAVE):
        denied(t, auth.SCENARIO_SAVE)
        return
    st.text_input(t("incentives.scenario.save.name"), key=_k(SAVE_NAME), max_chars=store.NAME_MAX,
                  placeholder=t("incentives.scenario.save.name.placeholder"))
    st.text_area(t("incentives.scenario.save.note"), key=_k(SAVE_NOTE), max_chars=store.NOTE_MAX, height=90)
    clicked = st.button(t("incentives.scenario.save.button"), type="primary", disabled=params is None,
                        icon=":material/save:")
    if clicked and params is not None:
        _save(ctx, params, state)
        if "inc_save_error" not in st.session_state:
            st.rerun()
    error = st.session_state.pop("inc_save_error", None)
    if error:
        st.error(error, icon=":material/error:")


def show_link(ctx: PageContext) -> None:
    t = ctx.t
    loaded = st.session_state.get(LOADED)
    st.markdown(f"**{t('incentives.scenario.link.title')}**")
    if not loaded:
        st.caption(t("incentives.scenario.link.none"))
        return
    query = f"?{LINK_PARAM}={loaded['id']}"
    base = st.context.url  # this page's address in the user's browser (None outside a browser)
    st.code(f"{base}{query}" if base else query, language=None, wrap_lines=True)
    st.markdown(t("incentives.scenario.link.open", query=query))
    st.caption(t("incentives.scenario.link.caption"))


def _meta(ctx: PageContext, **kw) -> BriefMeta:
    return BriefMeta(generated_at=datetime.now(timezone.utc), demo_seed=demo_seed(ctx), **kw)


def show_brief_download(ctx: PageContext, o: SC.ScenarioOutcome) -> None:
    t = ctx.t
    loaded = st.session_state.get(LOADED)
    name, note, ids = "", "", ()
    if loaded and not F.changed_from(current_state(), loaded["state"]):
        name, note, ids = loaded["name"], loaded["note"], (int(loaded["id"]),)
    html = render_brief(o, t, _meta(ctx, name=name or t("incentives.scenario.current"), note=note, scenario_ids=ids))
    st.download_button(t("incentives.brief.download"), html.encode("utf-8"), file_name=f"brief-{o.year}.html",
                       mime="text/html", icon=":material/description:")


def _choice_label(choice: str, saved_labels: dict[str, str], t: Translator) -> str:
    if choice == CURRENT:
        return t("incentives.compare.current")
    if choice == DEFAULTS:
        return t("incentives.compare.defaults")
    return saved_labels.get(choice, choice)


def _outcome_for(ctx: PageContext, year: int, scheme: Scheme, choice: str, live: SC.ScenarioOutcome,
                 label: str) -> tuple:
    """(outcome named `label`, note, scenario id or None) of a comparison choice."""
    if choice == CURRENT:
        found, note, sid = live, "", None
    elif choice == DEFAULTS:
        found, note, sid = outcome(ctx, year, scheme, F.default_params(scheme)), "", None
    else:
        saved = stored_scenario(ctx, int(choice))
        found, note, sid = outcome(ctx, year, scheme, saved.params), saved.note, saved.id
    return replace(found, name=label), note, sid


def show_compare(ctx: PageContext, year: int, scheme: Scheme, live: SC.ScenarioOutcome | None) -> None:
    t = ctx.t
    st.markdown(f"**{t('incentives.compare.title')}**")
    saved = saved_scenarios(ctx)
    saved_labels = {str(int(r["id"])): F.scenario_label(r, t) for r in saved.to_dict("records")}
    specials = [DEFAULTS] + ([CURRENT] if live is not None else [])
    options = specials + list(saved_labels)
    base_key, cmp_key = _k(BASELINE_CHOICE), _k(COMPARE_CHOICE)
    if st.session_state.get(base_key) not in options:
        st.session_state[base_key] = DEFAULTS
    st.session_state[cmp_key] = [c for c in st.session_state.get(cmp_key, [])
                                 if c in options and c != st.session_state[base_key]]
    c1, c2 = st.columns([1, 2])
    baseline = c1.selectbox(t("incentives.compare.baseline"), options, key=base_key,
                            format_func=lambda c: _choice_label(c, saved_labels, t))
    chosen = c2.multiselect(t("incentives.compare.scenarios"), [o for o in options if o != baseline], key=cmp_key,
                            max_selections=F.MAX_COMPARED, format_func=lambda c: _choice_label(c, saved_labels, t),
                            placeholder=t("incentives.compare.placeholder"))
    chosen = [c for c in chosen if c != baseline]
    if not chosen:
        st.caption(t("incentives.compare.hint"))
        return
    labels = {c: _choice_label(c, saved_labels, t) for c in chosen}
    try:
        base_label = _choice_label(baseline, saved_labels, t)
        base, base_note, base_id = _outcome_for(ctx, year, scheme, baseline, live, base_label)
        others, notes, ids = {}, {SC.BASELINE: base_note}, [base_id]
        for c in chosen:
            o, note, sid = _outcome_for(ctx, year, scheme, c, live, labels[c])
            others[labels[c]], notes[labels[c]] = o, note
            ids.append(sid)
    except SC.ScenarioError as exc:
        st.error(t("incentives.compare.failed", reason=exc.message(t)), icon=":material/error:")
        return
    comparison = SC.compare(base, others)
    columns = {SC.BASELINE: t("incentives.compare.baseline_label", name=base_label),
               **{labels[c]: labels[c] for c in chosen}}
    st.dataframe(F.comparison_summary(comparison, columns, t), hide_index=True, width="stretch",
                 height=table_height(len(SC.FIGURES)))
    changes = F.comparison_changes(comparison, columns, t)
    st.markdown(f"**{t('incentives.compare.changes')}**")
    if changes.empty:
        st.info(t("incentives.compare.no_changes"))
    else:
        _table(changes, max_rows=20)
    meta = _meta(ctx, notes={k: v for k, v in notes.items() if v},
                 scenario_ids=tuple(int(i) for i in ids if i is not None))
    st.download_button(t("incentives.brief.download_comparison"), render_brief(comparison, t, meta).encode("utf-8"),
                       file_name=f"brief-comparison-{year}.html", mime="text/html", icon=":material/description:")


def show_saved_list(ctx: PageContext) -> None:
    t = ctx.t
    saved = saved_scenarios(ctx)
    st.markdown(f"**{t('incentives.scenario.list.title')}**")
    if saved.empty:
        st.caption(t("incentives.scenario.none_saved"))
        return
    frame = F.scenarios_frame(saved, t)
    st.dataframe(frame, hide_index=True, width="stretch", height=table_height(min(len(frame), 10)))


def show_scenarios(ctx: PageContext, year: int, scheme: Scheme, params: SC.ScenarioParams | None,
                   live: SC.ScenarioOutcome | None, state: dict[str, Any]) -> None:
    left, right = st.columns([2, 3], gap="large")
    with left:
        show_save(ctx, params, state)
        st.divider()
        show_link(ctx)
        if live is not None:
            st.divider()
            st.markdown(f"**{ctx.t('incentives.brief.title')}**")
            st.caption(ctx.t("incentives.brief.caption"))
            show_brief_download(ctx, live)
    with right:
        show_compare(ctx, year, scheme, live)
        st.divider()
        show_saved_list(ctx)


# ------------------------------------------------------------------------------------ empty states
def show_no_evaluation(ctx: PageContext, year: int, scheme: Scheme) -> None:
    t = ctx.t
    st.info(t("incentives.no_evaluation", year=year, min_instruments=scheme.min_instruments),
            icon=":material/leaderboard:")
    st.page_link(EVALUATION_PAGE, label=t("incentives.no_evaluation.link"), icon=":material/leaderboard:")
