"""The annual statistical report (统计年报, seed point 一): every figure of one year, as pure
functions over the frames of `models.queries`, and the report's tables in display form.

`build_report(inputs, year, policy)` returns an `AnnualReport`: the figures of the year and of the
year before (for the year-over-year change), the breakdowns (region, class, unit type, value band,
funding source, country of origin, share mode), the load classes and the service figures. The
instrument register of a year is `census.in_register` (commissioned by 31 December); idle and
saturated come from `utilisation.load_class` with `LoadLines.from_policy`. Nothing here reads the
store except `load_inputs`, which only calls `models.queries`.

Scope (the one of `dashboard.census`): the instrument count, total value, holding units and the
count and value columns of the breakdowns cover the whole register of the year; every hour,
utilisation, load, external-service and service-record figure covers instruments in service
(status not 待报废; exempt instruments stay in); the openness rates cover instruments in service
that are not exempt. The previous year is computed with the same rules.

`report_tables(report, t)` turns the figures into translated tables of typed cells, which the HTML
renderer (`dashboard.report_html`) formats as text and the Excel writer (`dashboard.report_xlsx`)
writes as numbers with number formats. Money stays in CNY here; cells of kind "wan" are shown in 万元.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard import census
from dashboard import formatting as fmt
from dashboard import policy as P
from dashboard.i18n import Translator
from dashboard.national import FUNDINGS, SHARE_MODES, UNIT_TYPES, WAN
from dashboard.load import LOAD_CLASSES, LoadLines, load_class

EXTERNAL_USER = "外部用户"
INTERNAL_SHARE_MODE = "内部共享"
CLOSED_SHARE_MODE = "不共享"

BREAKDOWN_IDS = ("region", "class", "unit_type", "value_band", "funding", "country", "share_mode")

# Headline figures in report order, with the kind of number each one is (for formatting and for
# how its year-over-year change is expressed: rates change in percentage points).
HEADLINE = (
    ("instruments", "count"),
    ("value", "wan"),
    ("units", "count"),
    ("open_rate", "rate"),
    ("participation_rate", "rate"),
    ("effective_hours", "hours"),
    ("mean_effective_hours", "hours"),
    ("utilisation_rate", "rate"),
    ("idle", "count"),
    ("saturated", "count"),
    ("external_hours", "hours"),
    ("external_share", "rate"),
    ("service_records", "count"),
    ("clients", "count"),
    ("income", "wan"),
)
HEADLINE_IDS = tuple(i for i, _ in HEADLINE)
HEADLINE_KIND = dict(HEADLINE)

BREAKDOWN_COLUMNS = ["key", "name_zh", "name_en", "instruments", "instruments_share", "value_cny", "value_share",
                     "units", "in_service", "effective_hours", "rated_hours", "utilisation", "external_hours"]

# The report is a Chinese publication: its generation time is printed in Beijing time.
BEIJING = ZoneInfo("Asia/Shanghai")


# ---- inputs and errors -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInputs:
    """The frames a report is built from (each as its `models.queries` function returns it).

    usage: usage_by_instrument_year rows of at least the year and the year before.
    services / services_prev: the service records of the year and of the year before
    (services_for_evaluation or services; only instrument_id, user_type, applicant_unit and
    service_amount_cny are read). services_prev is None when the year before has no data at all
    (see `previous_services`): its service figures are then unknown, not zero."""

    instruments: pd.DataFrame
    usage: pd.DataFrame
    services: pd.DataFrame
    services_prev: pd.DataFrame | None
    units: pd.DataFrame
    regions: pd.DataFrame
    classes: pd.DataFrame


@dataclass(frozen=True)
class ReportMeta:
    """Facts about the data behind a report, printed in its methods annex."""

    generated_at: datetime
    revision: int
    demo_seed: str | None = None


class ReportUnavailable(Exception):
    """No report can be built (empty registry, a year without data). Carries a catalogue key."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, t: Translator) -> str:
        return t(self.key, **self.params)


def check_year(instruments: pd.DataFrame, usage_years: list[int], year: int) -> None:
    """Raise ReportUnavailable unless the registry holds instruments and `year` has usage data."""
    if instruments.empty:
        raise ReportUnavailable("report.err.no_data")
    if year not in usage_years:
        known = ", ".join(str(y) for y in usage_years)
        if not usage_years:
            raise ReportUnavailable("report.err.no_usage", year=year)
        raise ReportUnavailable("report.err.unknown_year", year=year, years=known)


def previous_services(services_prev: pd.DataFrame, usage_years, year: int) -> pd.DataFrame | None:
    """The service records of year − 1 as the report takes them: None when that year has neither
    monthly usage nor any service record (nothing was reported yet, e.g. the first year of the
    system), so that its service figures show as missing rather than as zero. A year with usage
    but no service records really had none: its (empty) frame is kept."""
    if year - 1 not in set(usage_years) and services_prev.empty:
        return None
    return services_prev


def load_inputs(engine, year: int) -> ReportInputs:
    """Read the report's inputs for `year` through `models.queries` (raises ReportUnavailable)."""
    from models import queries as Q  # the pure part of this module needs no store

    instruments = Q.instruments(engine)
    usage_years = Q.usage_years(engine)
    check_year(instruments, usage_years, year)
    usage = pd.concat([Q.usage_by_instrument_year(engine, year - 1), Q.usage_by_instrument_year(engine, year)],
                      ignore_index=True)
    return ReportInputs(
        instruments=instruments,
        usage=usage,
        services=Q.services_for_evaluation(engine, year),
        services_prev=previous_services(Q.services_for_evaluation(engine, year - 1), usage_years, year),
        units=Q.units(engine),
        regions=Q.regions(engine),
        classes=Q.instrument_classes(engine),
    )


def generated_text(generated_at: datetime, t: Translator) -> str:
    """The generation time in Beijing time, labelled as such ('2026-01-05 16:30（北京时间）').
    A naive datetime is taken as the local time of the machine."""
    return t("report.time.beijing", time=generated_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"))


def load_meta(engine, generated_at: datetime | None = None) -> ReportMeta:
    from models import db, queries as Q

    return ReportMeta(generated_at=generated_at or datetime.now().astimezone(),
                      revision=db.data_revision(engine), demo_seed=Q.store_meta(engine, "demo_seed"))


# ---- the figures of one year -----------------------------------------------------------------


@dataclass(frozen=True)
class YearFigures:
    """The headline figures of one year. Hour figures are None when the year has no usage data,
    service figures None when its service records are unknown; ratios None on an empty denominator.

    instruments, value_cny and units cover the whole register; scrapped + in_service = instruments;
    exempt + eligible = in_service; every other figure covers instruments in service (the openness
    counts and rates: the eligible ones)."""

    year: int
    instruments: int
    value_cny: float
    units: int
    scrapped: int  # awaiting scrapping (待报废): in the register, out of every other figure
    in_service: int
    exempt: int  # exempt from opening, among the instruments in service
    eligible: int  # in service and not exempt: the denominator of the openness rates
    open_count: int  # 外部共享 among the eligible
    internal_count: int  # 内部共享 among the eligible
    closed_count: int  # 不共享 among the eligible
    open_rate: float | None
    participation_rate: float | None
    has_usage: bool
    effective_hours: float | None
    rated_hours: float | None
    utilisation_rate: float | None
    mean_effective_hours: float | None
    idle: int | None
    normal: int | None
    saturated: int | None
    external_hours: float | None
    external_share: float | None
    service_records: int | None
    external_records: int | None
    clients: int | None
    income_cny: float | None
    external_income_cny: float | None

    def headline(self, figure_id: str):
        """The value of a headline figure by its id (HEADLINE_IDS)."""
        return {"value": self.value_cny, "income": self.income_cny}.get(figure_id, getattr(self, figure_id, None))


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _services_in_scope(services: pd.DataFrame, in_service_ids) -> pd.DataFrame:
    """The service records of instruments in service (those of instruments awaiting scrapping, or
    outside the year's register, are left out like their hours)."""
    if not len(services):
        return services
    return services[services["instrument_id"].isin(set(in_service_ids))]


def year_figures(annual: pd.DataFrame, services: pd.DataFrame | None, year: int, has_usage: bool,
                 lines: LoadLines) -> YearFigures:
    """The figures of one year from its `census.annual_frame` and its service records (scope: see
    `YearFigures`)."""
    n = len(annual)
    live = census.in_service(annual)
    eligible = census.open_base(annual)
    modes = eligible["share_mode"] if len(eligible) else pd.Series(dtype=object)
    open_count = int((modes == census.EXTERNAL_SHARE_MODE).sum())
    internal_count = int((modes == INTERNAL_SHARE_MODE).sum())
    hours = {k: None for k in ("effective_hours", "rated_hours", "utilisation_rate", "mean_effective_hours", "idle",
                               "normal", "saturated", "external_hours", "external_share")}
    if has_usage:
        effective = float(live["effective_hours"].sum()) if len(live) else 0.0
        rated = float(live["rated_hours"].sum()) if len(live) else 0.0
        external = float(live["external_hours"].sum()) if len(live) else 0.0
        loads = load_class(live, lines) if len(live) else pd.Series(dtype=object)
        hours = {
            "effective_hours": effective,
            "rated_hours": rated,
            "utilisation_rate": _ratio(effective, rated),
            "mean_effective_hours": _ratio(effective, len(live)),
            "idle": int((loads == "idle").sum()),
            "normal": int((loads == "normal").sum()),
            "saturated": int((loads == "saturated").sum()),
            "external_hours": external,
            "external_share": _ratio(external, effective),
        }
    service = {k: None for k in ("service_records", "external_records", "clients", "income_cny", "external_income_cny")}
    if services is not None:
        services = _services_in_scope(services, live["id"] if len(live) else [])
        ext = services[services["user_type"] == EXTERNAL_USER] if len(services) else services
        clients = ext["applicant_unit"].fillna("").astype(str).str.strip() if len(ext) else pd.Series(dtype=object)
        service = {
            "service_records": int(len(services)),
            "external_records": int(len(ext)),
            "clients": int(clients[clients != ""].nunique()),
            "income_cny": float(services["service_amount_cny"].sum()) if len(services) else 0.0,
            "external_income_cny": float(ext["service_amount_cny"].sum()) if len(ext) else 0.0,
        }
    return YearFigures(
        year=year,
        instruments=n,
        value_cny=float(annual["original_value"].sum()) if n else 0.0,
        units=int(annual["unit_id"].nunique()) if n else 0,
        scrapped=n - len(live),
        in_service=len(live),
        exempt=len(live) - len(eligible),
        eligible=len(eligible),
        open_count=open_count,
        internal_count=internal_count,
        closed_count=int((modes == CLOSED_SHARE_MODE).sum()),
        open_rate=_ratio(open_count, len(eligible)),
        participation_rate=_ratio(open_count + internal_count, len(eligible)),
        has_usage=has_usage,
        **hours,
        **service,
    )


# ---- breakdowns ------------------------------------------------------------------------------


def _group(annual: pd.DataFrame, keys: pd.Series, order: list[str], keep_empty: bool) -> pd.DataFrame:
    """Count, value, units and hours per key. Keys listed in `order` come first in that order (all of
    them when keep_empty, else those present), then the other keys by count (descending) and key;
    the empty key (not reported) comes last. Count, value, units and the shares cover the whole
    register; in_service counts the instruments in service, and the hours and utilisation cover
    only those (NaN utilisation for a group without any)."""
    live = annual["in_service"].astype(bool).values if len(annual) else np.zeros(0, dtype=bool)

    def live_only(column: str) -> np.ndarray:
        return np.where(live, annual[column].astype(float).values, 0.0)

    frame = pd.DataFrame({
        "key": keys.fillna("").astype(str).values,
        "value_cny": annual["original_value"].astype(float).values,
        "unit_id": annual["unit_id"].values,
        "in_service": live.astype("int64"),
        "effective_hours": live_only("effective_hours"),
        "rated_hours": live_only("rated_hours"),
        "external_hours": live_only("external_hours"),
    })
    grouped = frame.groupby("key", sort=False).agg(
        instruments=("value_cny", "size"), value_cny=("value_cny", "sum"), units=("unit_id", "nunique"),
        in_service=("in_service", "sum"), effective_hours=("effective_hours", "sum"),
        rated_hours=("rated_hours", "sum"), external_hours=("external_hours", "sum"),
    )
    listed = [k for k in order if keep_empty or k in grouped.index]
    rest = grouped.drop(index=[k for k in listed if k in grouped.index])
    rest = rest.assign(_empty=rest.index == "").reset_index().sort_values(
        ["_empty", "instruments", "key"], ascending=[True, False, True], kind="stable")["key"].tolist()
    out = grouped.reindex(listed + rest).rename_axis("key").reset_index()
    for col in ("instruments", "units", "in_service"):
        out[col] = out[col].fillna(0).astype("int64")
    for col in ("value_cny", "effective_hours", "rated_hours", "external_hours"):
        out[col] = out[col].fillna(0.0).astype(float)
    total_n, total_v = len(annual), float(annual["original_value"].sum())
    out["instruments_share"] = out["instruments"] / total_n if total_n else np.nan
    out["value_share"] = out["value_cny"] / total_v if total_v else np.nan
    out["utilisation"] = (out["effective_hours"] / out["rated_hours"]).where(out["rated_hours"] > 0)
    out["name_zh"] = out["key"]
    out["name_en"] = out["key"]
    return out


def breakdowns(annual: pd.DataFrame, regions: pd.DataFrame, classes: pd.DataFrame,
               policy: P.PolicyDefaults = P.DEFAULTS) -> dict[str, pd.DataFrame]:
    """The seven breakdowns of the register (BREAKDOWN_IDS), each with BREAKDOWN_COLUMNS.

    region: every banner, zones rolled up into the banner they lie in (names from `regions`);
    class: top-level classes present (first two digits of class_code), with class names;
    value_band: every band from the census floor up (plus the band below the floor when occupied),
    key = band number, with lower_cny / upper_cny; unit_type, funding, share_mode: every national
    value; country: the countries present. An unreported value has the key ""."""
    out: dict[str, pd.DataFrame] = {}
    roll = census.banner_of(regions) if not regions.empty else {}
    banners = regions[regions["kind"] == "banner"] if not regions.empty else regions
    region_keys = annual["region_code"].map(lambda c: roll.get(c, c)) if len(annual) else pd.Series(dtype=object)
    region = _group(annual, region_keys, list(banners["code"]) if len(banners) else [], keep_empty=True)
    names = regions.set_index("code") if not regions.empty else pd.DataFrame(columns=["name_zh", "name_en"])
    region["name_zh"] = region["key"].map(names["name_zh"]).fillna(region["key"])
    region["name_en"] = region["key"].map(names["name_en"]).fillna(region["key"])
    out["region"] = region

    top = annual["class_code"].astype(str).str[:2] if len(annual) else pd.Series(dtype=object)
    by_class = _group(annual, top, [], keep_empty=False).sort_values("key", kind="stable").reset_index(drop=True)
    cnames = classes.set_index("code") if not classes.empty else pd.DataFrame(columns=["name_zh", "name_en"])
    by_class["name_zh"] = by_class["key"].map(cnames["name_zh"]).fillna(by_class["key"])
    by_class["name_en"] = by_class["key"].map(cnames["name_en"]).fillna(by_class["key"])
    out["class"] = by_class

    edges = tuple(policy.value_band_edges_cny)
    band_keys = census.band_index(annual["original_value"], edges).astype(str) if len(annual) else pd.Series(dtype=object)
    occupied = set(band_keys)
    bands = [str(b) for b in range(len(edges) + 1) if b > 0 or "0" in occupied]
    band = _group(annual, band_keys, bands, keep_empty=True)
    lowers, uppers = [0.0, *edges], [*edges, np.nan]
    band["lower_cny"] = band["key"].astype(int).map(lambda b: lowers[b])
    band["upper_cny"] = band["key"].astype(int).map(lambda b: uppers[b])
    out["value_band"] = band

    out["unit_type"] = _group(annual, _col(annual, "unit_type"), list(UNIT_TYPES), keep_empty=True)
    out["funding"] = _group(annual, _col(annual, "funding"), list(FUNDINGS), keep_empty=True)
    out["country"] = _group(annual, _col(annual, "country").fillna("").astype(str).str.strip(), [], keep_empty=False)
    out["share_mode"] = _group(annual, _col(annual, "share_mode"), list(SHARE_MODES), keep_empty=True)
    return out


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series([""] * len(frame), index=frame.index, dtype=object)


def load_table(annual: pd.DataFrame, lines: LoadLines) -> pd.DataFrame:
    """In-service instruments per load class (idle / normal / saturated): instruments, share, value."""
    in_service = census.in_service(annual)
    loads = load_class(in_service, lines) if len(in_service) else pd.Series(dtype=object)
    values = in_service["original_value"].astype(float) if len(in_service) else pd.Series(dtype=float)
    rows = []
    for cls in LOAD_CLASSES:
        mask = (loads == cls).values if len(in_service) else np.zeros(0, dtype=bool)
        rows.append({"key": cls, "instruments": int(mask.sum()), "value_cny": float(values[mask].sum())})
    out = pd.DataFrame(rows)
    out["instruments_share"] = out["instruments"] / len(in_service) if len(in_service) else np.nan
    return out


def exempt_table(annual: pd.DataFrame) -> pd.DataFrame:
    """Exempt instruments in service per exemption reason (reasons present), most frequent first."""
    live = census.in_service(annual)
    if live.empty:
        return pd.DataFrame({"key": pd.Series(dtype=object), "instruments": pd.Series(dtype="int64")})
    reasons = live.loc[live["exempt"], "exempt_reason"].astype(str).str.strip()
    out = reasons.value_counts().rename_axis("key").reset_index(name="instruments")
    return out.sort_values(["instruments", "key"], ascending=[False, True], kind="stable").reset_index(drop=True)


# ---- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnualReport:
    year: int
    policy: P.PolicyDefaults
    lines: LoadLines
    current: YearFigures
    previous: YearFigures
    headline: pd.DataFrame  # id, kind, current, previous, change, change_rel
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)
    loads: pd.DataFrame = field(default_factory=pd.DataFrame)
    exempt: pd.DataFrame = field(default_factory=pd.DataFrame)


def headline_frame(current: YearFigures, previous: YearFigures) -> pd.DataFrame:
    """Headline figures of both years with their change. change = current − previous (for rates a
    difference of ratios, i.e. percentage points / 100); change_rel = change / previous for
    non-rates (None for rates, or when the previous value is missing or zero)."""
    rows = []
    for fid, kind in HEADLINE:
        cur, prev = current.headline(fid), previous.headline(fid)
        change = cur - prev if cur is not None and prev is not None else None
        rel = change / prev if change is not None and kind != "rate" and prev else None
        rows.append({"id": fid, "kind": kind, "current": cur, "previous": prev, "change": change, "change_rel": rel})
    return pd.DataFrame(rows)


def build_report(inputs: ReportInputs, year: int, policy: P.PolicyDefaults = P.DEFAULTS) -> AnnualReport:
    """Every figure of the report for `year` (see the module docstring)."""
    lines = LoadLines.from_policy(policy)
    usage_years = set(inputs.usage["year"].astype(int)) if len(inputs.usage) else set()
    annual = census.annual_frame(inputs.instruments, inputs.usage, year, policy)
    prev_annual = census.annual_frame(inputs.instruments, inputs.usage, year - 1, policy)
    current = year_figures(annual, inputs.services, year, year in usage_years, lines)
    previous = year_figures(prev_annual, inputs.services_prev, year - 1, year - 1 in usage_years, lines)
    return AnnualReport(
        year=year,
        policy=policy,
        lines=lines,
        current=current,
        previous=previous,
        headline=headline_frame(current, previous),
        breakdowns=breakdowns(annual, inputs.regions, inputs.classes, policy),
        loads=load_table(annual, lines),
        exempt=exempt_table(annual),
    )


# ---- display tables (shared by the HTML and the Excel renderers) -------------------------------

# Cell kinds: text; count (integer); wan (CNY shown in 万元); hours; rate (ratio shown as %);
# pp (a change of a rate, ratio difference shown in percentage points); rel (relative change, %);
# signed variants of count / wan / hours for changes: dcount, dwan, dhours.
NUMERIC_KINDS = ("count", "wan", "hours", "rate", "pp", "rel", "dcount", "dwan", "dhours")


@dataclass(frozen=True)
class Cell:
    value: object
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""


def definition_params(policy: P.PolicyDefaults = P.DEFAULTS) -> dict[str, str]:
    """Policy numbers quoted in the methods texts, so each text matches the rule used."""
    edges = policy.value_band_edges_cny
    return {
        **census.definition_params(policy),
        "floor": f"{policy.census_floor_cny / WAN:g}",
        "floor_cny": f"{policy.census_floor_cny:,.0f}",
        "saturation": f"{policy.saturation_hours:g}",
        "edges": " / ".join(f"{e / WAN:g}" for e in edges),
    }


def label_of(breakdown_id: str, row: pd.Series, t: Translator) -> str:
    """Display label of one breakdown row."""
    key = row["key"]
    if breakdown_id == "value_band":
        upper = row["upper_cny"]
        return _band_label(float(row["lower_cny"]), None if pd.isna(upper) else float(upper), t)
    if key == "":
        return t("report.unreported")
    if breakdown_id == "region":
        return str(row["name_en"] if t.lang == "en" and row["name_en"] else row["name_zh"])
    if breakdown_id == "class":
        name = row["name_en"] if t.lang == "en" and row["name_en"] else row["name_zh"]
        return f"{key} {name}" if name != key else str(key)
    if breakdown_id == "country":
        return country_label(str(key), t)
    return t.enum(breakdown_id, str(key))


def _band_label(lower: float, upper: float | None, t: Translator) -> str:
    return fmt.value_band(lower, upper, t)


def country_label(name: str, t: Translator) -> str:
    """English name of a country of origin from the catalogue (report.country.<name>), else as stored."""
    from dashboard.i18n import catalogue

    return catalogue(t.lang).get(f"report.country.{name}", name)


def _breakdown_table(bid: str, frame: pd.DataFrame, t: Translator) -> Table:
    headers = [t(f"report.col.{c}") for c in ("category", "instruments", "instruments_share", "value_wan",
                                               "value_share", "units", "in_service", "effective_hours",
                                               "utilisation", "external_hours")]
    rows = [[Cell(label_of(bid, r, t)), Cell(r["instruments"], "count"), Cell(r["instruments_share"], "rate"),
             Cell(r["value_cny"], "wan"), Cell(r["value_share"], "rate"), Cell(r["units"], "count"),
             Cell(r["in_service"], "count"), Cell(r["effective_hours"], "hours"), Cell(r["utilisation"], "rate"),
             Cell(r["external_hours"], "hours")]
            for _, r in frame.iterrows()]
    return Table(bid, t(f"report.breakdown.{bid}"), headers, rows, note=t("report.breakdown.note"))


def _change_kind(kind: str) -> str:
    return {"rate": "pp", "count": "dcount", "wan": "dwan", "hours": "dhours"}[kind]


def headline_table(report: AnnualReport, t: Translator) -> Table:
    headers = [t("report.col.figure"), t("report.col.current", year=report.year),
               t("report.col.previous", year=report.year - 1), t("report.col.change"), t("report.col.change_rel"),
               t("report.col.unit")]
    rows = []
    for _, r in report.headline.iterrows():
        kind = r["kind"]
        rows.append([Cell(t(f"report.fig.{r['id']}.label")), Cell(r["current"], kind), Cell(r["previous"], kind),
                     Cell(r["change"], _change_kind(kind)), Cell(r["change_rel"], "rel"),
                     Cell(t(f"report.fig.{r['id']}.unit"))])
    return Table("headline", t("report.table.headline"), headers, rows, note=t("report.table.headline.note"))


def openness_table(report: AnnualReport, t: Translator) -> Table:
    c = report.current
    items = [("instruments", c.instruments, "count"), ("scrapped", c.scrapped, "count"),
             ("in_service", c.in_service, "count"), ("exempt", c.exempt, "count"), ("eligible", c.eligible, "count"),
             ("open_count", c.open_count, "count"), ("internal_count", c.internal_count, "count"),
             ("closed_count", c.closed_count, "count"), ("open_rate", c.open_rate, "rate"),
             ("participation_rate", c.participation_rate, "rate")]
    rows = [[Cell(t(f"report.open.{k}")), Cell(v, kind)] for k, v, kind in items]
    for _, r in report.exempt.iterrows():
        rows.append([Cell(t("report.open.exempt_reason", reason=t.enum("exempt_reason", r["key"]))),
                     Cell(r["instruments"], "count")])
    return Table("openness", t("report.table.openness"), [t("report.col.figure"), t("report.col.value")], rows)


def loads_table(report: AnnualReport, t: Translator) -> Table:
    headers = [t("report.col.load"), t("report.col.instruments"), t("report.col.in_service_share"),
               t("report.col.value_wan")]
    params = definition_params(report.policy)
    rows = [[Cell(t(f"report.load.{r['key']}", **params)), Cell(r["instruments"], "count"),
             Cell(r["instruments_share"], "rate"), Cell(r["value_cny"], "wan")]
            for _, r in report.loads.iterrows()]
    return Table("loads", t("report.table.loads"), headers, rows, note=t("report.table.loads.note", **params))


def utilisation_table(report: AnnualReport, t: Translator) -> Table:
    c = report.current
    items = [("in_service", c.in_service, "count"), ("effective_hours", c.effective_hours, "hours"),
             ("rated_hours", c.rated_hours, "hours"), ("utilisation_rate", c.utilisation_rate, "rate"),
             ("mean_effective_hours", c.mean_effective_hours, "hours"), ("idle", c.idle, "count"),
             ("normal", c.normal, "count"), ("saturated", c.saturated, "count")]
    rows = [[Cell(t(f"report.use.{k}")), Cell(v, kind)] for k, v, kind in items]
    return Table("utilisation", t("report.table.utilisation"), [t("report.col.figure"), t("report.col.value")], rows)


def service_table(report: AnnualReport, t: Translator) -> Table:
    c = report.current
    items = [("external_hours", c.external_hours, "hours"), ("external_share", c.external_share, "rate"),
             ("service_records", c.service_records, "count"), ("external_records", c.external_records, "count"),
             ("clients", c.clients, "count"), ("income", c.income_cny, "wan"),
             ("external_income", c.external_income_cny, "wan")]
    rows = [[Cell(t(f"report.svc.{k}")), Cell(v, kind)] for k, v, kind in items]
    return Table("service", t("report.table.service"), [t("report.col.figure"), t("report.col.value")], rows)


def definitions_table(report: AnnualReport, t: Translator) -> Table:
    """Definition, formula, unit and source of every headline figure (the methods annex)."""
    params = definition_params(report.policy)
    headers = [t("report.col.figure"), t("report.col.formula"), t("report.col.unit"), t("report.col.source")]
    rows = [[Cell(t(f"report.fig.{fid}.label")), Cell(t(f"report.fig.{fid}.formula", **params)),
             Cell(t(f"report.fig.{fid}.unit")), Cell(t(f"report.fig.{fid}.source", **params))] for fid in HEADLINE_IDS]
    return Table("definitions", t("report.table.definitions"), headers, rows)


def report_tables(report: AnnualReport, t: Translator) -> list[Table]:
    """Every table of the report in report order (the Excel workbook has one sheet per table)."""
    return [
        headline_table(report, t),
        *[_breakdown_table(bid, report.breakdowns[bid], t) for bid in BREAKDOWN_IDS],
        openness_table(report, t),
        utilisation_table(report, t),
        loads_table(report, t),
        service_table(report, t),
        definitions_table(report, t),
    ]
