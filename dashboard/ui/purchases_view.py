"""What the purchase-review page shows and reads: the request list, one request with its duplicate
check (suggested verdict, rule trace with evidence, similar instruments), the decision form and
history with the printable opinion, the entry form, the import, and the decision statistics.

Frame builders are pure (stored rows in, labelled frames out); the rules are in
dashboard.dupcheck and dashboard.purchases, the writes in models.services.purchases.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard import dupcheck as D
from dashboard import formatting as fmt
from dashboard import purchases as PR
from dashboard import quality
from dashboard import sanctions as S
from dashboard.i18n import LANGUAGES, Translator, catalogue
from dashboard.national import FUNDINGS
from dashboard.review_opinion import render_opinion
from dashboard.ui.auth_view import denied
from dashboard.ui import widgets
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.labels import localised
from models.services import purchases as SP

SELECTED = "pr_selected"  # session: id of the request shown in the review tab
SELECT_NEXT = "pr_select_next"  # session: a request to show on the next run (set after the picker ran)
FLASH = "pr_flash"  # session: (kind, text) shown once after a rerun
CLEAR_NEW = "pr_clear_new"  # session: empty the entry form on the next run (after a save)
CLEAR_DECISION = "pr_clear_decision"  # session: request id whose decision form is emptied on the next run
MATCH_ROWS = 20  # similar instruments listed on the page (the opinion lists 10)
ALL = "all"


def today() -> date:
    return quality.local_today()


def flash(kind: str, text: str) -> None:
    widgets.flash(FLASH, kind, text)


def show_flash() -> None:
    widgets.show_flash(FLASH)


def error_lines(errors, t: Translator) -> list[str]:
    """'Row 3 · 报价（元）: 报价无效 …' — one line per problem, row when it came from a file."""
    out = []
    for e in errors:
        field = t(f"purchases.field.{e.field}") if e.field in PR.REQUEST_FIELDS + PR.DECISION_FIELDS \
            else t(f"purchases.subject.{e.field}")
        params = {**e.params(), "value": fmt.md_text(e.value)}  # shown in st.error: Markdown
        text = t("purchases.err.line", field=field, reason=t(f"purchases.err.{e.code}", **params))
        out.append(t("purchases.err.row_prefix", row=e.row, text=text) if e.row is not None else text)
    return out


def show_errors(errors, t: Translator) -> None:
    st.error(t("purchases.err.title", n=len(errors)) + "\n\n" + "\n".join(f"- {x}" for x in error_lines(errors, t)),
             icon=":material/error:")


# ------------------------------------------------------------------------------------ list


def request_label(row, t: Translator) -> str:
    return t("purchases.request_label", no=row["request_no"], name=row["instrument_name"],
             applicant=localised(row, "applicant_name", "applicant_name_en", t.lang))


def verdict_text(value, t: Translator) -> str:
    return fmt.MISSING if value is None or pd.isna(value) else t(f"dupcheck.verdict.{PR.verdict_id(value)}")


def request_table(requests: pd.DataFrame, decisions: pd.DataFrame, checks: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Request no, applicant, instrument, price (万元), tier, submitted, status, suggested verdict
    (latest check), decision in force."""
    cur = PR.current_decisions(decisions)
    in_force = cur.set_index("request_id")["verdict"] if len(cur) else pd.Series(dtype=object)
    last = checks.groupby("request_id").tail(1).set_index("request_id") if len(checks) else pd.DataFrame(
        columns=["suggested_verdict"])
    suggested = requests["id"].map(last["suggested_verdict"]) if len(requests) else pd.Series(dtype=object)
    return pd.DataFrame({
        t("purchases.col.request_no"): requests["request_no"].astype(str),
        t("purchases.col.applicant"): localised(requests, "applicant_name", "applicant_name_en", t.lang),
        t("purchases.col.instrument"): requests["instrument_name"].astype(str),
        t("purchases.col.price"): [fmt.wan(v) for v in requests["quoted_price"]],
        t("purchases.col.tier"): [t(f"purchases.tier_short.{D.tier_of(v)}") for v in requests["quoted_price"]],
        t("purchases.col.submitted"): pd.to_datetime(requests["submitted_date"]).dt.strftime("%Y-%m-%d"),
        t("purchases.col.status"): [t(f"purchases.status.{s}") for s in requests["status"]],
        t("purchases.col.suggested"): [fmt.MISSING if pd.isna(v) else t(f"dupcheck.verdict.{v}") for v in suggested],
        t("purchases.col.decision"): [verdict_text(in_force.get(i), t) for i in requests["id"]],
    })


def read_status_filter(t: Translator) -> str:
    options = (ALL,) + PR.STATUSES
    return st.segmented_control(t("purchases.filter.status"), options, default=ALL, key=widget_key("pr_status"),
                                format_func=lambda s: t(f"purchases.status.{s}") if s != ALL else t("purchases.filter.all"))


def default_request(requests: pd.DataFrame) -> int:
    """The oldest request still waiting for a check or a decision, else the newest."""
    waiting = requests[requests["status"] != PR.DECIDED]
    return int((waiting if len(waiting) else requests.iloc[[-1]])["id"].iloc[0])


def pick_request(requests: pd.DataFrame, t: Translator) -> dict:
    ids = [int(i) for i in requests["id"]]
    key = widget_key(SELECTED)  # per language: the option texts (the applicant's name) are translated
    if st.session_state.get(SELECT_NEXT) in ids:
        st.session_state[key] = st.session_state.pop(SELECT_NEXT)
    if st.session_state.get(key) not in ids:
        st.session_state[key] = default_request(requests)
    labels = {int(r["id"]): request_label(r, t) for r in requests.to_dict("records")}
    chosen = st.selectbox(t("purchases.pick"), ids, key=key, format_func=labels.get)
    return requests[requests["id"] == chosen].iloc[0].to_dict()


# --------------------------------------------------------------------------------- request


def request_facts(row: dict, t: Translator) -> pd.DataFrame:
    """Field / value of one request, in form order."""
    region = localised(row, "region_name_zh", "region_name_en", t.lang)
    values = {
        "request_no": row["request_no"], "applicant": localised(row, "applicant_name", "applicant_name_en", t.lang),
        "instrument_name": row["instrument_name"], "class_code": row["class_code"], "model": row["model"],
        "manufacturer": row["manufacturer"], "key_specs": row["key_specs"],
        "quoted_price": fmt.money(row["quoted_price"], t), "quotes": row["quotes"],
        "funding": t.enum("funding", row["funding"]) if row["funding"] else "",
        "justification": row["justification"], "expected_annual_hours": fmt.hours(row["expected_annual_hours"], t),
        "location": region, "submitted_date": pd.Timestamp(row["submitted_date"]).strftime("%Y-%m-%d"),
    }
    return pd.DataFrame({t("purchases.col.field"): [t(f"purchases.field.{f}") for f in values],
                         t("purchases.col.value"): [str(v) if str(v) else fmt.MISSING for v in values.values()]})


def show_request(row: dict, t: Translator) -> None:
    st.subheader(t("purchases.request_heading", no=fmt.md_text(row["request_no"]), name=fmt.md_text(row["instrument_name"])))
    c1, c2, c3 = st.columns(3)
    c1.metric(t("purchases.metric.status"), t(f"purchases.status.{row['status']}"), border=True)
    c2.metric(t("purchases.metric.price"), fmt.money(row["quoted_price"], t), border=True)
    tier = D.tier_of(row["quoted_price"])
    c3.metric(t("purchases.metric.tier"), t(f"purchases.tier_short.{tier}"), help=t(f"dupcheck.tier.{tier}"), border=True)
    with st.expander(t("purchases.request_details"), icon=":material/description:"):
        st.table(request_facts(row, t).map(fmt.md_text), hide_index=True)  # st.table renders Markdown


# ------------------------------------------------------------------------------------ check


def read_review_rules(t: Translator) -> D.ReviewRules:
    """The tier edges (万元) and load lines of the review, editable; defaults from policy_facts.md."""
    base = D.ReviewRules()
    with st.expander(t("purchases.rules.title"), icon=":material/tune:"):
        st.caption(t("purchases.rules.caption"))
        cols = st.columns(3)
        edges = [cols[i].number_input(t(f"purchases.rules.edge{i + 1}"), min_value=0.0, step=1.0,
                                      value=base.tier_edges_cny[i] / 10_000, key=widget_key(f"pr_edge{i}"))
                 for i in range(3)]
        cols = st.columns(3)
        low = cols[0].number_input(t("purchases.rules.low_use"), min_value=0.0, step=50.0,
                                   value=float(base.low_use_hours), key=widget_key("pr_low"))
        sat = cols[1].number_input(t("purchases.rules.saturation"), min_value=0.0, step=50.0,
                                   value=float(base.saturation_hours), key=widget_key("pr_sat"))
        years = cols[2].number_input(t("purchases.rules.years"), min_value=1, max_value=10, step=1,
                                     value=base.history_years, key=widget_key("pr_years"))
    if not (0 < edges[0] < edges[1] < edges[2]) or not (0 < low < sat):
        st.error(t("purchases.rules.invalid"), icon=":material/error:")
        return base
    cny = tuple(float(e) * 10_000 for e in edges)
    return D.ReviewRules(tier_edges_cny=cny, near_edges_cny=cny[1:], low_use_hours=float(low),
                         saturation_hours=float(sat), history_years=int(years))


def restrictions(ctx: PageContext) -> tuple[pd.DataFrame, int | None]:
    """Units under purchase restriction: the default sanction rules of the incentives page on the
    sidebar year's evaluation (restrictions apply from the following year)."""
    from dashboard.ui import incentives_frames as IF
    from dashboard.ui import incentives_view as IV
    from dashboard.ui.evaluation_view import current_scheme

    if ctx.year is None:
        return pd.DataFrame(columns=list(S.RESTRICTED_COLUMNS)), None
    scheme = current_scheme(ctx)
    o = IV.outcome(ctx, ctx.year, scheme, IF.default_params(scheme))
    if o.sanctions is None:
        return pd.DataFrame(columns=list(S.RESTRICTED_COLUMNS)), ctx.year
    return S.restricted_units(o.sanctions, ctx.year), ctx.year


def run_check_clicked(ctx: PageContext, request_id: int, review: D.ReviewRules) -> None:
    t = ctx.t
    with st.spinner(t("purchases.check.running")):
        restricted, _ = restrictions(ctx)
        run = SP.run_check(ctx.engine, request_id, actor=ctx.actor, restricted=restricted, review=review, on_date=today())
    flash("success", t("purchases.check.done", verdict=t(f"dupcheck.verdict.{run.recommendation.verdict}"),
                       n=len(run.recommendation.matches)))


def beijing(iso: str) -> str:
    return pd.Timestamp(iso).tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")


def evidence_table(check: dict, t: Translator) -> pd.DataFrame:
    """Rule or flag, what it suggests, the instrument (or unit) concerned, the value and the line
    it was held against — one row per evidence item of the check."""
    names = {m["instrument_id"]: m["name_zh"] for m in check["matches"]}
    rows = []
    for e in check["evidence"]:
        suggests = t(f"dupcheck.verdict.{D.RULE_VERDICT[e['id']]}") if e["kind"] == "rule" else t("purchases.ev.flag")
        subject = names.get(e["instrument_id"], "") if e["instrument_id"] is not None else ""
        rows.append({t("purchases.ev.item"): t(f"dupcheck.{e['kind']}.{e['id']}"),
                     t("purchases.ev.suggests"): suggests, t("purchases.ev.subject"): subject or fmt.MISSING,
                     t("purchases.ev.measure"): t(f"purchases.ev.measure.{e['id']}", value=_num(e["value"]),
                                                  line=_num(e["line"]))})
    return pd.DataFrame(rows, columns=[t("purchases.ev.item"), t("purchases.ev.suggests"), t("purchases.ev.subject"),
                                       t("purchases.ev.measure")])


def _num(v) -> str:
    return fmt.MISSING if v is None else fmt.number(float(v))


def match_table(check: dict, t: Translator) -> pd.DataFrame:
    """The similar instruments of a check, best first."""
    cols = ["rank", "name", "model", "unit", "region", "distance", "share", "status", "hours", "spare", "load",
            "score", "reasons"]
    rows = []
    for m in check["matches"][:MATCH_ROWS]:
        en = t.lang == "en"
        rows.append([
            m["rank"], m["name_zh"], m["model"] or fmt.MISSING,
            (m.get("unit_name_en") if en and m.get("unit_name_en") else m["unit_name"]),
            (m.get("region_name_en") if en and m.get("region_name_en") else m["region_name_zh"]),
            m.get("distance_km"), t.enum("share_mode", m["share_mode"]), t.enum("status", m["status"]),
            round(float(m["avg_hours"]), 1), round(float(m["spare_hours"]), 1), t(f"dupcheck.load.{m['load']}"),
            round(float(m["score"]), 2),
            t("dupcheck.out.separator").join(t(f"dupcheck.reason.{r}") for r in m["reasons"]),
        ])
    return pd.DataFrame(rows, columns=[t(f"purchases.match.{c}") for c in cols])


def show_check(check: dict | None, row: dict, t: Translator) -> None:
    st.markdown(f"#### {t('purchases.check.heading')}")
    if check is None:
        st.info(t("purchases.check.none"), icon=":material/info:")
        return
    years = check.get("years") or []
    st.caption(t("purchases.check.meta", at=beijing(check["checked_at"]), by=fmt.md_text(check["checked_by"]),
                 years=f"{years[0]}–{years[-1]}" if years else fmt.MISSING, n=len(check["matches"])))
    verdict = check["verdict"]
    box = {D.PASS: st.success, D.ADJUST: st.warning, D.REJECT: st.error}[verdict]
    rules = t("dupcheck.out.separator").join(t(f"dupcheck.rule.{r}") for r in check["rules"])
    box(t("purchases.check.suggested", verdict=t(f"dupcheck.verdict.{verdict}"), rules=rules),
        icon=":material/gavel:")
    for f in check["flags"]:
        st.warning(t(f"dupcheck.flag.{f}"), icon=":material/flag:")
    st.markdown(f"**{t('purchases.check.trace')}**")
    st.dataframe(evidence_table(check, t), hide_index=True, width="stretch")
    st.markdown(f"**{t('purchases.check.matches', n=len(check['matches']))}**")
    if check["matches"]:
        table = match_table(check, t)
        st.dataframe(table, hide_index=True, width="stretch", column_config={
            t("purchases.match.distance"): st.column_config.NumberColumn(format="%.1f km")})
        if len(check["matches"]) > MATCH_ROWS:
            st.caption(t("purchases.check.more", n=len(check["matches"]) - MATCH_ROWS))
    else:
        st.caption(t("purchases.check.no_matches"))


# --------------------------------------------------------------------------------- decisions


def decision_history(decisions: pd.DataFrame, t: Translator) -> pd.DataFrame:
    """Decision no., verdict, reasons, conditions, reviewers, date, in force / superseded by."""
    superseded_by = {int(s): int(i) for i, s in zip(decisions["id"], decisions["supersedes_id"]) if pd.notna(s)}
    return pd.DataFrame({
        t("purchases.dec.no"): decisions["id"].astype(int),
        t("purchases.dec.verdict"): [verdict_text(v, t) for v in decisions["verdict"]],
        t("purchases.dec.reasons"): decisions["reasons"].astype(str),
        t("purchases.dec.conditions"): [c or fmt.MISSING for c in decisions["conditions"].astype(str)],
        t("purchases.dec.reviewers"): decisions["reviewers"].astype(str),
        t("purchases.dec.date"): [pd.Timestamp(d).strftime("%Y-%m-%d") for d in decisions["decided_date"]],
        t("purchases.dec.state"): [t("purchases.dec.superseded", no=superseded_by[int(i)]) if int(i) in superseded_by
                                   else t("purchases.dec.in_force") for i in decisions["id"]],
    })


def decision_form(ctx: PageContext, row: dict, check: dict | None) -> None:
    t = ctx.t
    st.markdown(f"#### {t('purchases.dec.heading')}")
    if not ctx.actor.can(auth.PURCHASE_DECIDE):
        denied(t, auth.PURCHASE_DECIDE)
        return
    if row["status"] == PR.SUBMITTED:
        st.info(t("purchases.dec.needs_check"), icon=":material/info:")
        return
    suggested = check["verdict"] if check else D.PASS
    if st.session_state.pop(CLEAR_DECISION, None) == row["id"]:  # recorded: start the next one empty
        # Set, not removed: a removed key only resets the widget in AppTest, the browser sends its
        # text back. The date (which has an explicit default) keeps its value.
        for name in ("reasons", "conditions", "reviewers"):
            st.session_state[f"pr_{name}_{row['id']}"] = ""
    with st.form(f"pr_decision_{row['id']}", border=True):
        if row["status"] == PR.DECIDED:
            st.caption(t("purchases.dec.supersede_note"))
        verdict = st.radio(t("purchases.field.verdict"), D.VERDICTS, index=D.VERDICTS.index(suggested),
                           format_func=lambda v: t(f"dupcheck.verdict.{v}"), horizontal=True,
                           key=widget_key(f"pr_verdict_{row['id']}"))
        reasons = st.text_area(t("purchases.field.reasons"), key=f"pr_reasons_{row['id']}",
                               placeholder=t("purchases.dec.reasons_hint"))
        conditions = st.text_area(t("purchases.field.conditions"), key=f"pr_conditions_{row['id']}",
                                  placeholder=t("purchases.dec.conditions_hint"))
        c1, c2 = st.columns(2)
        reviewers = c1.text_input(t("purchases.field.reviewers"), key=f"pr_reviewers_{row['id']}",
                                  placeholder=t("purchases.dec.reviewers_hint"))
        day = c2.date_input(t("purchases.field.decided_date"), value=today(), max_value=today(),
                            key=f"pr_day_{row['id']}")
        if st.form_submit_button(t("purchases.dec.submit"), type="primary", icon=":material/gavel:"):
            raw = {"verdict": verdict, "reasons": reasons, "conditions": conditions, "reviewers": reviewers,
                   "decided_date": day}
            try:
                new_id = SP.record_decision(ctx.engine, int(row["id"]), raw, actor=ctx.actor, today=today())
            except PR.ReviewError as exc:
                show_errors(exc.errors, t)
                return
            st.session_state[CLEAR_DECISION] = row["id"]
            flash("success", t("purchases.dec.saved", no=new_id, verdict=t(f"dupcheck.verdict.{verdict}")))
            st.rerun()


def show_decisions(decisions: pd.DataFrame, t: Translator) -> None:
    st.markdown(f"#### {t('purchases.dec.history')}")
    if decisions.empty:
        st.caption(t("purchases.dec.none"))
        return
    st.dataframe(decision_history(decisions, t), hide_index=True, width="stretch")


def opinion_download(ctx: PageContext, row: dict, check: dict | None, decisions: pd.DataFrame, demo: bool) -> None:
    html_text = render_opinion(row, check, decisions.to_dict("records"), ctx.t, demo=demo)
    st.download_button(ctx.t("purchases.opinion.download"), html_text.encode("utf-8"),
                       file_name=ctx.t("purchases.opinion.file", no=row["request_no"]), mime="text/html",
                       icon=":material/print:", key=f"pr_opinion_{row['id']}")
    st.caption(ctx.t("purchases.opinion.caption"))


def review_tab(ctx: PageContext, requests: pd.DataFrame, decisions: pd.DataFrame, demo: bool) -> None:
    t = ctx.t
    if requests.empty:
        st.info(t("purchases.empty"), icon=":material/inbox:")
        return
    checks = read(ctx, "duplicate_checks")
    status = read_status_filter(t) or ALL
    shown = requests if status == ALL else requests[requests["status"] == status]
    st.dataframe(request_table(shown, decisions, checks, t), hide_index=True, width="stretch",
                 column_config={t("purchases.col.price"): widgets.number_column(fmt.WAN_DECIMALS)})
    row = pick_request(requests, t)
    show_request(row, t)
    if ctx.actor.can(auth.PURCHASE_CHECK):
        review = read_review_rules(t)
        st.button(t("purchases.check.run"), type="primary" if row["status"] == PR.SUBMITTED else "secondary",
                  icon=":material/manage_search:", on_click=run_check_clicked, args=(ctx, int(row["id"]), review),
                  key=f"pr_run_{row['id']}")
    check = PR.latest_check(checks, int(row["id"]))
    show_check(check, row, t)
    own = decisions[decisions["request_id"] == row["id"]]
    show_decisions(own, t)
    decision_form(ctx, row, check)
    opinion_download(ctx, row, check, own, demo)


# ------------------------------------------------------------------------------------- entry


# Fields of the entry form emptied after a save by setting their empty value (a removed key only
# resets the widget in AppTest; the browser sends its value back). The expected hours and the date
# have explicit defaults (setting them would clash with those) and keep their values.
NEW_FORM_EMPTY = {"pr_new_applicant": None, "pr_new_instrument_name": "", "pr_new_class_code": None,
                  "pr_new_subclass": "", "pr_new_quoted_price": None, "pr_new_model": "",
                  "pr_new_manufacturer": "", "pr_new_key_specs": "", "pr_new_quotes": "",
                  "pr_new_funding": None, "pr_new_location": None, "pr_new_justification": ""}


def _clear_new_form() -> None:
    if st.session_state.pop(CLEAR_NEW, False):
        for key, empty in NEW_FORM_EMPTY.items():
            st.session_state[key] = empty


def new_request_tab(ctx: PageContext) -> None:
    t = ctx.t
    if not ctx.actor.can(auth.PURCHASE_ENTER):
        denied(t, auth.PURCHASE_ENTER)
        return
    _clear_new_form()
    units = read(ctx, "units")
    if units.empty:
        st.info(t("purchases.new.no_units"), icon=":material/info:")
        return
    classes = read(ctx, "instrument_classes")
    middle = classes[classes["level"] == 2]
    regions = read(ctx, "regions")
    unit_names = dict(zip(units["id"].astype(int), localised(units, "name", "name_en", t.lang)))
    class_names = dict(zip(middle["code"], localised(middle, "name_zh", "name_en", t.lang)))
    region_names = dict(zip(regions["code"], localised(regions, "name_zh", "name_en", t.lang)))
    st.caption(t("purchases.new.caption"))
    with st.form("pr_new", border=True):
        c1, c2 = st.columns(2)
        applicant = c1.selectbox(t("purchases.field.applicant") + " *", list(unit_names), index=None,
                                 format_func=unit_names.get, key="pr_new_applicant", placeholder=t("purchases.new.choose"))
        name = c2.text_input(t("purchases.field.instrument_name") + " *", key="pr_new_instrument_name", max_chars=PR.NAME_MAX)
        c1, c2, c3 = st.columns(3)
        middle_code = c1.selectbox(t("purchases.field.class_code") + " *", list(class_names), index=None,
                                   format_func=lambda c: f"{c} {class_names[c]}", key="pr_new_class_code",
                                   placeholder=t("purchases.new.choose"))
        sub = c2.text_input(t("purchases.new.subclass"), key="pr_new_subclass", max_chars=2,
                            help=t("purchases.new.subclass_help"))
        price = c3.number_input(t("purchases.field.quoted_price") + " *", min_value=0.0, value=None, step=10_000.0,
                                key="pr_new_quoted_price")
        c1, c2 = st.columns(2)
        model = c1.text_input(t("purchases.field.model"), key="pr_new_model", max_chars=PR.SHORT_MAX)
        maker = c2.text_input(t("purchases.field.manufacturer"), key="pr_new_manufacturer", max_chars=PR.SHORT_MAX)
        specs = st.text_area(t("purchases.field.key_specs"), key="pr_new_key_specs", max_chars=PR.TEXT_MAX)
        quotes = st.text_area(t("purchases.field.quotes"), key="pr_new_quotes", max_chars=PR.TEXT_MAX,
                              placeholder=t("purchases.new.quotes_hint"))
        c1, c2, c3 = st.columns(3)
        funding = c1.selectbox(t("purchases.field.funding") + " *", FUNDINGS, index=None, key="pr_new_funding",
                               format_func=lambda f: t.enum("funding", f), placeholder=t("purchases.new.choose"))
        hours = c2.number_input(t("purchases.field.expected_annual_hours"), min_value=0.0,
                                max_value=PR.HOURS_MAX, value=0.0, step=100.0, key="pr_new_expected_annual_hours")
        location = c3.selectbox(t("purchases.field.location"), list(region_names), index=None,
                                format_func=region_names.get, key="pr_new_location",
                                placeholder=t("purchases.new.same_region"))
        justification = st.text_area(t("purchases.field.justification") + " *", key="pr_new_justification",
                                     max_chars=PR.TEXT_MAX)
        day = st.date_input(t("purchases.field.submitted_date"), value=today(), max_value=today(),
                            key="pr_new_submitted_date")
        submitted = st.form_submit_button(t("purchases.new.submit"), type="primary", icon=":material/send:")
    if not submitted:
        return
    code = (middle_code or "") + (sub.strip() if middle_code and sub and sub.strip() else "")
    raw = {"applicant": applicant, "instrument_name": name, "class_code": code, "model": model,
           "manufacturer": maker, "key_specs": specs, "quoted_price": price, "quotes": quotes, "funding": funding,
           "justification": justification, "expected_annual_hours": hours, "location": location,
           "submitted_date": day}
    try:
        new_id, number = SP.submit_request(ctx.engine, raw, actor=ctx.actor, today=today())
    except PR.ReviewError as exc:
        show_errors(exc.errors, t)
        return
    st.session_state[SELECT_NEXT] = new_id
    st.session_state[CLEAR_NEW] = True
    flash("success", t("purchases.new.saved", no=number))
    st.rerun()


# ------------------------------------------------------------------------------------ import


def aliases() -> dict[str, str]:
    return PR.header_aliases({lang: catalogue(lang) for lang in LANGUAGES})


def template_csv(t: Translator) -> bytes:
    """The header row in the page's language (utf-8 with BOM so spreadsheet programs read it)."""
    return (",".join(t(f"purchases.field.{f}") for f in PR.REQUEST_FIELDS) + "\n").encode("utf-8-sig")


def field_reference(t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("purchases.ref.column"): [t(f"purchases.field.{f}") for f in PR.REQUEST_FIELDS],
        t("purchases.ref.key"): list(PR.REQUEST_FIELDS),
        t("purchases.ref.required"): [t("purchases.ref.yes") if f in PR.REQUIRED_FIELDS else "" for f in PR.REQUEST_FIELDS],
        t("purchases.ref.rule"): [t(f"purchases.ref.rule.{f}", fundings="、".join(FUNDINGS)) for f in PR.REQUEST_FIELDS],
    })


def import_tab(ctx: PageContext) -> None:
    from dashboard.importer import FileReadError
    from dashboard.transfer import reason

    t = ctx.t
    if not ctx.actor.can(auth.PURCHASE_ENTER):
        denied(t, auth.PURCHASE_ENTER)
        return
    st.caption(t("purchases.import.caption"))
    st.download_button(t("purchases.import.template"), template_csv(t), file_name=t("purchases.import.template_file"),
                       mime="text/csv", icon=":material/download:")
    with st.expander(t("purchases.import.columns"), icon=":material/view_column:"):
        st.table(field_reference(t), hide_index=True)
    upload = st.file_uploader(t("purchases.import.file"), type=["csv", "xlsx"], key="pr_upload")
    if upload is None or not st.button(t("purchases.import.run"), type="primary", icon=":material/upload:"):
        return
    try:
        frame = PR.read_request_file(upload.name, upload.getvalue())
        with st.spinner(t("purchases.import.running")):
            done = SP.import_requests(ctx.engine, frame, actor=ctx.actor, today=today(), aliases=aliases(),
                                      source=upload.name)
    except FileReadError as exc:
        st.error(t("purchases.import.unreadable", file=fmt.md_text(upload.name), reason=fmt.md_text(reason(t, exc))),
                 icon=":material/error:")
        return
    except PR.ReviewError as exc:
        st.error(t("purchases.import.refused", file=fmt.md_text(upload.name), n=len(exc.errors)), icon=":material/error:")
        st.dataframe(import_errors(exc.errors, t), hide_index=True, width="stretch")
        return
    flash("success", t("purchases.import.done", n=len(done), first=done[0][1], last=done[-1][1]))
    st.rerun()


def import_errors(errors, t: Translator) -> pd.DataFrame:
    return pd.DataFrame({
        t("purchases.err.col.row"): [e.row if e.row is not None else "" for e in errors],
        t("purchases.err.col.column"): [t(f"purchases.field.{e.field}") if e.field in PR.REQUEST_FIELDS
                                        else t(f"purchases.subject.{e.field}") for e in errors],
        t("purchases.err.col.value"): [e.value for e in errors],
        t("purchases.err.col.reason"): [t(f"purchases.err.{e.code}", **e.params()) for e in errors],
    })


# ------------------------------------------------------------------------------------ statistics


def statistics_table(stats: pd.DataFrame, t: Translator) -> pd.DataFrame:
    out = pd.DataFrame({t("purchases.stat.year"): [t("purchases.stat.total") if pd.isna(y) else str(int(y))
                                                   for y in stats["year"]]})
    for c in PR.STAT_COLUMNS[1:]:
        values = stats[c]
        out[t(f"purchases.stat.{c}")] = [fmt.wan(v) for v in values] if c.endswith("_cny") else values.astype(int)
    return out


def statistics_tab(requests: pd.DataFrame, decisions: pd.DataFrame, t: Translator) -> None:
    if requests.empty:
        st.info(t("purchases.empty"), icon=":material/inbox:")
        return
    stats = PR.decision_statistics(requests, decisions)
    total = stats.iloc[-1]
    cards = [("requests", str(int(total["requests"]))), ("decided", str(int(total["decided"]))),
             ("approved_cny", fmt.money(total["approved_cny"], t)), ("avoided_cny", fmt.money(total["avoided_cny"], t)),
             ("pending", str(int(total["pending"])))]
    for col, (k, v) in zip(st.columns(len(cards)), cards):
        col.metric(t(f"purchases.stat.{k}"), v, help=t(f"purchases.def.{k}"), border=True)
    st.dataframe(statistics_table(stats, t), hide_index=True, width="stretch")
    with st.expander(t("purchases.def.title"), icon=":material/functions:"):
        st.table(definitions(t), hide_index=True)


DEFINITION_IDS = ("requests", "requested_cny", "decided", "approved_cny", "avoided_cny", "pending", "tier",
                  "suggested", "similar", "hours", "spare", "distance")


def definitions(t: Translator) -> pd.DataFrame:
    review = D.ReviewRules()
    params = {"e1": fmt.trimmed(review.tier_edges_cny[0] / 10_000), "e2": fmt.trimmed(review.tier_edges_cny[1] / 10_000),
              "e3": fmt.trimmed(review.tier_edges_cny[2] / 10_000), "low": fmt.number(review.low_use_hours),
              "sat": fmt.number(review.saturation_hours), "years": review.history_years}
    return pd.DataFrame({
        t("purchases.def.item"): [t(f"purchases.def.name.{d}") for d in DEFINITION_IDS],
        t("purchases.def.rule"): [t(f"purchases.def.{d}", **params) for d in DEFINITION_IDS],
        t("purchases.def.source"): [t(f"purchases.def.source.{d}") for d in DEFINITION_IDS],
    })
