"""What the service finder page (找服务) shows and reads: the query box with example needs, the
location and filters, one card per instrument (holder, location and distance, fee, load, rating,
voucher eligibility, sanction, contact, the details and why it matched), the method table, and —
for signed-in staff — the jump to the instrument in the registry.

Everything is computed by dashboard.finder. The searchable catalogue (texts, n-gram index) is
built once per data revision and kept with st.cache_resource (one shared object, not a copy per
run: at national scale the catalogue holds 100,000 rows); so is the year's load of each
instrument. The sanction flags are those the purchase-review page applies: the default sanction
rules of the incentives page on the sidebar year's evaluation (`incentives_view.outcome`).

The registry link: the registry page picks its instrument with widgets of its own; it opens on
an instrument given as ?instrument=<id> (`registry_view.apply_instrument_link`: search set to the
inventory number, other filters cleared, picker on the instrument). The card links there with
st.page_link, shown to signed-in staff only. (A button with st.switch_page and preset widget state
was tried first: in the browser, Streamlit 1.67 then resets the sidebar's language to Chinese.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import finder as F
from dashboard import formatting as fmt
from dashboard import scenarios as SC
from dashboard.i18n import Translator
from dashboard.ui import registry_view
from dashboard.ui.context import PageContext, read, widget_key
from dashboard.ui.labels import localised
from models import db

REGISTRY_PAGE = "pages/registry.py"
QUERY = "finder_query"
LINK_PARAM = "q"  # ?q=液相色谱 opens the page with that query (a link a firm can be sent)
LINK_DONE = "finder_link_done"  # session: the ?q= value already applied
EXAMPLES = 4  # example needs under the query box (finder.example.<1…4>)
DEFAULT_ORIGIN = "152921"  # 阿拉善左旗: Bayanhot, seat of the league
SHOW_CHOICES = (10, 20, 50)
RATING_CHOICES = (0.0, 3.0, 4.0, 4.5)  # 0: any
LOAD_BADGE = {F.AVAILABLE: ("green", ":material/event_available:"), F.BUSY: ("orange", ":material/hourglass_top:"),
              F.UNKNOWN: ("gray", ":material/help:")}
# Rows of the method table (finder.method.<id>.label / .formula), in page order.
METHOD_ROWS = ("offered", "terms", "coverage", "synonyms", "fields", "term", "relevance", "threshold", "ranking",
               "distance", "load", "rating", "fee", "voucher", "sanction", "contact")


# ------------------------------------------------------------------------------------ cached reads
def _url(ctx: PageContext) -> str:
    return ctx.engine.url.render_as_string(hide_password=False)


@st.cache_resource(show_spinner=False, max_entries=2)
def _catalogue(url: str, revision: int) -> F.Catalogue:
    return F.load_catalogue(db.get_engine(url))


def catalogue(ctx: PageContext) -> F.Catalogue:
    """The offered instruments and their search index, once per data revision (shared, read-only)."""
    return _catalogue(_url(ctx), ctx.revision)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load(url: str, revision: int, year: int, _ctx: PageContext) -> pd.DataFrame:
    return F.load_states(_catalogue(url, revision), read(_ctx, "usage_by_instrument_year", year))


def load_states(ctx: PageContext) -> pd.DataFrame | None:
    """Busy / available / unknown of every offered instrument in the sidebar year (None: no year)."""
    return None if ctx.year is None else _load(_url(ctx), ctx.revision, ctx.year, ctx)


def sanctioned(ctx: PageContext) -> tuple[dict[int, tuple[str, ...]], str | None]:
    """Holders under sanction on the sidebar year's evaluation (unit id → rule ids), as the
    purchase-review page takes them; and the reason when they cannot be worked out."""
    if ctx.year is None:
        return {}, None
    from dashboard.ui import incentives_frames as IF
    from dashboard.ui import incentives_view as IV
    from dashboard.ui.evaluation_view import current_scheme

    scheme = current_scheme(ctx)
    try:
        o = IV.outcome(ctx, ctx.year, scheme, IF.default_params(scheme))
    except SC.ScenarioError as exc:
        return {}, str(exc)
    return F.sanctioned_units(o.sanctions.by_unit if o.sanctions is not None else None), None


# ------------------------------------------------------------------------------------ controls


@dataclass(frozen=True)
class Controls:
    query: str
    origin: str
    flt: F.FinderFilter
    show: int


def _set_query(text: str) -> None:
    st.session_state[widget_key(QUERY)] = text


def _apply_link() -> None:
    """Put a ?q= query into the box once per value (later edits of the box are kept)."""
    linked = st.query_params.get(LINK_PARAM)
    if linked and st.session_state.get(LINK_DONE) != linked:
        st.session_state[widget_key(QUERY)] = linked
        st.session_state[LINK_DONE] = linked


def read_query(t: Translator) -> str:
    """The query box (filled from a ?q= link) and the example needs (a click fills the box)."""
    _apply_link()
    query = st.text_input(t("finder.query"), key=widget_key(QUERY), placeholder=t("finder.query_hint"),
                          icon=":material/search:")
    cols = st.columns([1.1, 2, 2, 2, 2, 3], vertical_alignment="center")
    cols[0].caption(t("finder.examples"))
    for i, col in enumerate(cols[1:EXAMPLES + 1]):
        example = t(f"finder.example.{i + 1}")
        col.button(example, key=f"finder_example_{i}", on_click=_set_query, args=(example,), width="stretch")
    return query or ""


def class_options(cat: F.Catalogue, classes: pd.DataFrame, lang: str) -> dict[str, str]:
    """The 4-digit middle classes of the offered instruments → "0105 色谱仪器"."""
    names = dict(zip(classes["code"].astype(str), localised(classes, "name_zh", "name_en", lang))) \
        if not classes.empty else {}
    codes = sorted(set(cat.rows["class_code"].astype(str).str[:4]))
    return {c: f"{c} {names.get(c, '')}".strip() for c in codes}


def read_controls(t: Translator, cat: F.Catalogue, regions: pd.DataFrame, classes: pd.DataFrame) -> Controls:
    query = read_query(t)
    region_names = dict(zip(regions["code"].astype(str), localised(regions, "name_zh", "name_en", t.lang)))
    codes = list(region_names)
    class_names = class_options(cat, classes, t.lang)
    with st.container(border=True):
        st.markdown(f"**{t('finder.filters')}**")
        c1, c2, c3 = st.columns(3)
        start = codes.index(DEFAULT_ORIGIN) if DEFAULT_ORIGIN in codes else 0
        origin = c1.selectbox(t("finder.origin"), codes, index=start,
                              format_func=lambda c: region_names[c], help=t("finder.origin_help"),
                              key=widget_key("finder_origin"))
        chosen_regions = c2.multiselect(t("finder.filter.region"), codes, format_func=lambda c: region_names[c],
                                        placeholder=t("finder.filter.any"), help=t("finder.filter.region_help"),
                                        key=widget_key("finder_regions"))
        chosen_classes = c3.multiselect(t("finder.filter.class"), list(class_names), format_func=lambda c: class_names[c],
                                        placeholder=t("finder.filter.any"), key=widget_key("finder_classes"))
        c4, c5, c6, c7 = st.columns([1.1, 1.4, 1, 0.8], vertical_alignment="bottom")
        max_fee = c4.number_input(t("finder.filter.max_fee"), min_value=0.0, value=None, step=50.0, format="%.0f",
                                  placeholder=t("finder.filter.any"), help=t("finder.filter.max_fee_help"),
                                  key=widget_key("finder_max_fee"))
        unpriced = c5.checkbox(t("finder.filter.unpriced"), value=True, help=t("finder.filter.unpriced_help"),
                               key=widget_key("finder_unpriced"))
        min_rating = c6.selectbox(t("finder.filter.min_rating"), RATING_CHOICES, help=t("finder.filter.min_rating_help"),
                                  format_func=lambda v: t("finder.filter.any") if not v else
                                  t("finder.filter.min_rating_value", value=fmt.trimmed(v, 1)),
                                  key=widget_key("finder_min_rating"))
        show = c7.selectbox(t("finder.show"), SHOW_CHOICES, index=0, key=widget_key("finder_show"))
    flt = F.FinderFilter(regions=tuple(chosen_regions), classes=tuple(chosen_classes),
                         max_fee_per_hour=None if max_fee is None else float(max_fee), include_unpriced=bool(unpriced),
                         min_rating=float(min_rating) if min_rating else None)
    return Controls(query=query, origin=origin, flt=flt, show=int(show))


# ------------------------------------------------------------------------------------ texts and frames


def client_kinds(vouchers, t: Translator) -> str:
    """The client kinds the voucher policy serves, in the page language."""
    return t("finder.sep.list").join(t.enum("client_kind", k) or k for k in vouchers.eligible_client_kinds)


def method_table(rules: F.FinderRules, t: Translator) -> pd.DataFrame:
    """Every figure of the cards with its rule or formula, quoting the values in force."""
    weights = t("finder.sep.list").join(f"{t(f'finder.field.{f}')} {fmt.trimmed(rules.weight(f), 2)}" for f in F.FIELDS)
    params = {"weights": weights, "beta": fmt.trimmed(rules.synonym_factor, 2),
              "threshold": fmt.trimmed(rules.min_relevance * 100, 1),
              "saturation": fmt.number(rules.lines.saturation_hours),
              "ratio": fmt.percent(rules.vouchers.voucher_ratio, 0),
              "cap": fmt.money(rules.vouchers.per_application_cap_cny, t) if rules.vouchers.per_application_cap_cny
              else t("finder.method.no_cap"),
              "kinds": client_kinds(rules.vouchers, t)}
    return pd.DataFrame({
        t("finder.method.figure"): [t(f"finder.method.{r}.label") for r in METHOD_ROWS],
        t("finder.method.rule"): [t(f"finder.method.{r}.formula", **params) for r in METHOD_ROWS],
    })


def relevance_table(result: F.FindResult, i: int, t: Translator) -> pd.DataFrame:
    """Why result `i` matched: per query term, r_f(t) of every field (%) and R(t) (%); the last
    row is the relevance (their mean)."""
    data = {t("finder.why.term"): list(result.terms) + [t("finder.why.mean")]}
    for k, f in enumerate(F.FIELDS):
        data[t(f"finder.field.{f}")] = [fmt.trimmed(100 * v, 1) for v in result.field_scores[i, :, k]] + [""]
    data[t("finder.why.term_relevance")] = [fmt.trimmed(100 * v, 1) for v in result.term_relevance[i]] + \
        [fmt.trimmed(100 * float(result.results["relevance"].iloc[i]), 1)]
    return pd.DataFrame(data)


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


def detail_table(row: dict, t: Translator) -> pd.DataFrame:
    """The instrument's record as the card's details: label and Markdown-safe value."""
    values = {
        "inner_id": row["inner_id"],
        "model": " · ".join(x for x in (row["model"], row["manufacturer"]) if x),
        "class": f"{row['class_code']} {localised(row, 'class_name_zh', 'class_name_en', t.lang)}".strip(),
        "functions": row["functions"], "specs": row["technical_specs"], "service": row["service_content"],
        "records": row["record_services"] if row["record_services"] != row["service_content"] else "",
        "sharing_rules": row["sharing_rules"], "address": row["address"],
        "status": t.enum("status", row["status"]), "services": t("finder.detail.services_value",
                                                                 n=int(row["service_records"]),
                                                                 vouchers=int(row["voucher_records"]),
                                                                 last=_day(row["last_service"])),
    }
    if not _present(values["records"]):
        del values["records"]  # the services provided say nothing beyond the record's own service content
    rows = [(t(f"finder.detail.{k}"), fmt.md_text(v) if _present(v) else fmt.MISSING) for k, v in values.items()]
    return pd.DataFrame(rows, columns=[t("finder.detail.field"), t("finder.detail.value")])


def _day(value) -> str:
    return fmt.MISSING if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def location_text(row: dict, origin_name: str, t: Translator) -> str:
    region = localised(row, "region_name_zh", "region_name_en", t.lang)
    if pd.isna(row["distance_km"]):
        return t("finder.card.location_unknown", region=region)
    return t("finder.card.location", region=region, origin=origin_name, km=fmt.number(row["distance_km"], 1))


def rating_text(row: dict, t: Translator) -> str:
    if pd.isna(row["rating"]):
        return t("finder.card.no_rating")
    return t("finder.card.rating", rating=f"{row['rating']:.1f}", n=int(row["rated_records"]))


def fee_text(row: dict, t: Translator) -> str:
    hourly = "" if pd.isna(row["fee_per_hour"]) else t("finder.card.fee_hour", fee=fmt.number(row["fee_per_hour"]))
    standard = fmt.md_text(row["fee_standard"]) if row["fee_standard"] else t("finder.card.fee_none")
    return f"**{hourly}** · {standard}" if hourly else standard


def contact_text(row: dict, t: Translator) -> str:
    parts = [fmt.md_text(x) for x in (row["contact"], row["phone"], row["email"]) if _present(x)]
    return " · ".join(parts) if parts else t("finder.card.contact_none")


def load_help(row: dict, year: int | None, rules: F.FinderRules, t: Translator) -> str:
    if year is None:
        return t("finder.card.load_no_year")
    if row["load"] == F.UNKNOWN:
        return t("finder.card.load_unknown_help", year=year)
    return t("finder.card.load_help", year=year, hours=fmt.hours(row["effective_hours"], t),
             line=fmt.number(rules.lines.saturation_hours))


def voucher_help(row: dict, rules: F.FinderRules, t: Translator) -> str:
    v = rules.vouchers
    cap = fmt.money(v.per_application_cap_cny, t) if v.per_application_cap_cny else t("finder.method.no_cap")
    return t("finder.card.voucher_help", kinds=client_kinds(v, t), ratio=fmt.percent(v.voucher_ratio, 0), cap=cap,
             n=int(row["voucher_records"]))


def synonyms_text(result: F.FindResult, t: Translator) -> str | None:
    items = [t("finder.synonym_item", term=fmt.md_text(term), synonyms=fmt.md_text(t("finder.sep.list").join(v)))
             for term, v in result.expansions.items() if v]
    return t("finder.synonyms", items=t("finder.sep.clause").join(items)) if items else None


# ------------------------------------------------------------------------------------ rendering


def show_prompt(t: Translator) -> None:
    st.info(t("finder.prompt"), icon=":material/travel_explore:")


def show_summary(result: F.FindResult, t: Translator) -> None:
    st.markdown(t("finder.summary", searched=result.searched, matched=result.matched, filtered=result.filtered,
                  shown=len(result.results)))
    excluded = sum(result.excluded.values())
    if excluded:
        st.caption(t("finder.summary_excluded", n=excluded))
    text = synonyms_text(result, t)
    if text:
        st.caption(text)


def show_no_results(result: F.FindResult, t: Translator) -> None:
    if result.matched:
        st.warning(t("finder.no_results_filtered", n=result.matched), icon=":material/filter_alt_off:")
    else:
        st.warning(t("finder.no_results", query=fmt.md_text(result.query.strip())), icon=":material/search_off:")
    st.markdown(t("finder.no_results_tips"))


def rule_names(row: dict, t: Translator) -> str:
    return t("finder.sep.list").join(t(f"sanctions.rule.{r}") for r in row["sanction_rules"])


def show_card(result: F.FindResult, i: int, ctx: PageContext, origin_name: str) -> None:
    t, rules, year = ctx.t, result.rules, ctx.year
    row = result.results.iloc[i].to_dict()
    iid = int(row["instrument_id"])
    with st.container(border=True, key=f"finder_card_{iid}"):
        head, score = st.columns([6, 1])
        name = localised(row, "name_zh", "name_en", t.lang)
        model = f" · {fmt.md_text(row['model'])}" if row["model"] else ""
        head.markdown(f"#### {int(row['rank'])}. {fmt.md_text(name)}{model}")
        unit = localised(row, "unit_name", "unit_name_en", t.lang)
        head.markdown(t("finder.card.place", unit=fmt.md_text(unit), location=location_text(row, origin_name, t)))
        score.metric(t("finder.card.relevance"), fmt.trimmed(100 * row["relevance"], 0),
                     help=t("finder.card.relevance_help"))
        badges = st.container(horizontal=True, gap="small")
        color, icon = LOAD_BADGE[row["load"]]
        with badges:
            st.badge(t(f"finder.load.{row['load']}"), icon=icon, color=color, help=load_help(row, year, rules, t))
            st.badge(rating_text(row, t), icon=":material/star:", color="blue" if not pd.isna(row["rating"]) else "gray",
                     help=t("finder.card.rating_help"))
            if row["voucher_eligible"]:
                st.badge(t("finder.card.voucher"), icon=":material/confirmation_number:", color="violet",
                         help=voucher_help(row, rules, t))
            else:
                st.badge(t("finder.card.no_voucher"), icon=":material/confirmation_number:", color="gray",
                         help=t("finder.card.no_voucher_help"))
            if row["sanctioned"]:
                st.badge(t("finder.card.sanction"), icon=":material/gavel:", color="red",
                         help=t("finder.card.sanction_help", year=year,
                                rules=rule_names(row, t)))
        if row["sanctioned"]:
            st.caption(t("finder.card.sanction_note", year=year,
                         rules=rule_names(row, t)))
        fee_col, contact_col = st.columns(2)
        fee_col.markdown(f"**{t('finder.card.fee')}**  \n{fee_text(row, t)}")
        booking = f"  \n[{t('finder.card.booking')}]({row['booking_url']})" \
            if str(row["booking_url"]).startswith(("http://", "https://")) else ""
        contact_col.markdown(f"**{t('finder.card.contact')}**  \n{contact_text(row, t)}{booking}")
        with st.expander(t("finder.card.details"), icon=":material/info:"):
            st.table(detail_table(row, t), hide_index=True)
            st.markdown(f"**{t('finder.why.title')}**")
            st.table(relevance_table(result, i, t), hide_index=True)
            st.caption(t("finder.why.caption", beta=fmt.trimmed(rules.synonym_factor, 2)))
        if ctx.actor.signed_in:
            st.page_link(REGISTRY_PAGE, label=t("finder.card.open_registry"), icon=":material/inventory_2:",
                         query_params={registry_view.LINK_PARAM: str(iid)})


def show_method(rules: F.FinderRules, t: Translator) -> None:
    with st.expander(t("finder.method.title"), icon=":material/functions:"):
        st.table(method_table(rules, t), hide_index=True)
        st.caption(t("finder.method.source"))
