"""Purchase requests and their joint review (seed point 二): validation of a request (typed in a
form or imported from a spreadsheet), request numbers, the status flow, validation of a review
decision, the current decision of each request, distances of the matches and the decision
statistics.

Pure pandas: the store's frames come in (`models.queries.purchase_requests`, `review_decisions`,
`units`, `regions`, `instrument_classes`), ids and numbers go out; every message is a catalogue key
`purchases.err.<code>` with its parameters.

Status flow: submitted (entered or imported) → checked (a duplicate check is on record) → decided
(a review decision is on record). A decision needs a check on record; a new decision supersedes
the current one (decisions are never changed or deleted).

Verdicts are stored as the policy's words 通过 / 调整 / 不予通过 (VERDICT_VALUES); the duplicate
check's ids pass / adjust / reject name them in code and in the catalogues (dupcheck.verdict.<id>).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

import numpy as np
import pandas as pd

from dashboard import dupcheck as D
from dashboard import importer
from dashboard.national import FUNDINGS

SUBMITTED, CHECKED, DECIDED = "submitted", "checked", "decided"
STATUSES = (SUBMITTED, CHECKED, DECIDED)
VERDICT_VALUES = {D.PASS: "通过", D.ADJUST: "调整", D.REJECT: "不予通过"}
APPROVING = (D.PASS, D.ADJUST)  # verdicts whose request may be bought (调整 with its conditions)

REQUEST_NO_PREFIX = "ALS-CG"
REQUEST_NO_PATTERN = re.compile(r"^ALS-CG-(\d{4})-(\d{4,})$")
REQUEST_NO_MAX = 32  # the length of the store's column (PurchaseRequest.request_no)
NAME_MAX = 200
SHORT_MAX = 200  # model, manufacturer, reviewers
TEXT_MAX = 4000  # specifications, quotes, justification, reasons, conditions
PRICE_MAX_CNY = 1e10
HOURS_MAX = 8784.0  # the hours of a leap year
CLASS_PATTERN = re.compile(r"^\d{4}(\d{2})?$")  # a request names at least its middle class

# Request fields in form and file order (catalogue label purchases.field.<name>).
REQUEST_FIELDS = ("request_no", "applicant", "instrument_name", "class_code", "model", "manufacturer",
                  "key_specs", "quoted_price", "quotes", "funding", "justification", "expected_annual_hours",
                  "location", "submitted_date")
REQUIRED_FIELDS = ("applicant", "instrument_name", "class_code", "quoted_price", "funding", "justification")
# Fields kept as written (the others are looked up or must match a pattern): checked for control
# characters always and, in imported files, for spreadsheet formulas (dashboard.importer.text_problem).
FREE_TEXT_FIELDS = ("instrument_name", "model", "manufacturer", "key_specs", "quotes", "justification")
DECISION_FIELDS = ("verdict", "reasons", "conditions", "reviewers", "decided_date")


# ------------------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class FieldError:
    """One problem with one value: field (REQUEST_FIELDS / DECISION_FIELDS or "file"), code (the
    catalogue key purchases.err.<code>), the offending value as text, the file row (1 = header)
    when it came from a file, and extra message parameters."""

    field: str
    code: str
    value: str = ""
    row: int | None = None
    limit: str = ""

    def params(self) -> dict:
        return {"value": self.value, "row": self.row if self.row is not None else "", "limit": self.limit}


class ReviewError(ValueError):
    """A write the review cannot accept; `errors` say what to fix. Nothing was written."""

    def __init__(self, errors):
        self.errors = tuple(errors)
        super().__init__("; ".join(f"{e.field}:{e.code}" for e in self.errors))


# ------------------------------------------------------------------------------ reference data


@dataclass(frozen=True)
class Reference:
    """What a request is checked against: units (id, name, name_en, region_code), classes (code)
    and regions (code, name_zh, name_en)."""

    units: pd.DataFrame
    classes: pd.DataFrame
    regions: pd.DataFrame

    def unit_id(self, text: str) -> int | None:
        """The unit of an id or an exact Chinese or English name."""
        s = str(text).strip()
        ids = self.units["id"].astype(int)
        # ASCII digits only ("²".isdigit() is true, int() refuses it) and no more than an id has
        # (int() refuses a string of over 4,300 digits).
        if s.isascii() and s.isdigit() and len(s) <= 18 and int(s) in set(ids):
            return int(s)
        hit = self.units[(self.units["name"].astype(str) == s) | (self.units["name_en"].fillna("").astype(str) == s)]
        return int(hit["id"].iloc[0]) if len(hit) else None

    def region_code(self, text: str) -> str | None:
        s = str(text).strip()
        hit = self.regions[(self.regions["code"].astype(str) == s) | (self.regions["name_zh"].astype(str) == s)
                           | (self.regions["name_en"].astype(str) == s)]
        return str(hit["code"].iloc[0]) if len(hit) else None

    def unit_region(self, unit_id: int) -> str:
        return str(self.units.loc[self.units["id"].astype(int) == unit_id, "region_code"].iloc[0])

    def class_known(self, code: str) -> bool:
        known = set(self.classes["code"].astype(str))
        return code[:2] in known and code[:4] in known


# ---------------------------------------------------------------------------------- values


def _blank(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if pd.isna(value) is True:
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def _text(value) -> str:
    return "" if _blank(value) else str(value).strip()


def _number(value) -> float | None:
    """A number from a number or a text (thousands commas and full-width digits allowed)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    import unicodedata
    s = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
    if "_" in s:  # float() reads "1_5" as 15; in a price that is a typing accident
        return None
    try:
        return float(s)
    except ValueError:
        return None


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


# ---------------------------------------------------------------------------------- requests


def clean_request(raw: Mapping, ref: Reference, today: date, row: int | None = None) -> tuple[dict, list[FieldError]]:
    """Check one request (keys of REQUEST_FIELDS; missing keys are blank).

    Returns (clean values, errors). Clean values: request_no ("" = to be numbered),
    applicant_unit_id, instrument_name, class_code, model, manufacturer, key_specs, quoted_price
    (CNY), quotes, funding, justification, expected_annual_hours, region_code (the location;
    default the applicant's region), submitted_date (default today)."""
    errors: list[FieldError] = []

    def err(field: str, code: str, value="", limit=""):
        errors.append(FieldError(field, code, _text(value)[:80], row, str(limit)))

    for f in REQUIRED_FIELDS:
        if _blank(raw.get(f)):
            err(f, "required")
    out: dict = {}
    no = _text(raw.get("request_no"))
    if no and (len(no) > REQUEST_NO_MAX or not REQUEST_NO_PATTERN.match(no)):
        err("request_no", "request_no", no)
    out["request_no"] = no
    unit_id = None
    if not _blank(raw.get("applicant")):
        unit_id = ref.unit_id(raw["applicant"])
        if unit_id is None:
            err("applicant", "unknown_unit", raw["applicant"])
    out["applicant_unit_id"] = unit_id
    for f, limit in (("instrument_name", NAME_MAX), ("model", SHORT_MAX), ("manufacturer", SHORT_MAX),
                     ("key_specs", TEXT_MAX), ("quotes", TEXT_MAX), ("justification", TEXT_MAX)):
        value = _text(raw.get(f))
        if len(value) > limit:
            err(f, "too_long", value, limit)
        elif importer.text_problem(value) == "bad_characters":
            err(f, "bad_characters", value)
        out[f] = value
    code = _text(raw.get("class_code"))
    if code and (not CLASS_PATTERN.match(code) or not ref.class_known(code)):
        err("class_code", "class_code", code)
    out["class_code"] = code
    price = None
    if not _blank(raw.get("quoted_price")):
        price = _number(raw["quoted_price"])
        if price is None or not math.isfinite(price) or price <= 0:
            err("quoted_price", "price", raw["quoted_price"])
            price = None
        elif price > PRICE_MAX_CNY:
            err("quoted_price", "price_too_high", raw["quoted_price"], f"{PRICE_MAX_CNY:.0f}")
            price = None
    out["quoted_price"] = price
    funding = _text(raw.get("funding"))
    if funding and funding not in FUNDINGS:
        err("funding", "funding", funding, "、".join(FUNDINGS))
    out["funding"] = funding
    hours = 0.0
    if not _blank(raw.get("expected_annual_hours")):
        parsed = _number(raw["expected_annual_hours"])
        if parsed is None or not math.isfinite(parsed) or not 0 <= parsed <= HOURS_MAX:
            err("expected_annual_hours", "hours", raw["expected_annual_hours"], f"{HOURS_MAX:.0f}")
        else:
            hours = parsed
    out["expected_annual_hours"] = hours
    region = None
    if not _blank(raw.get("location")):
        region = ref.region_code(raw["location"])
        if region is None:
            err("location", "location", raw["location"])
    elif unit_id is not None:
        region = ref.unit_region(unit_id)
    out["region_code"] = region
    day = today
    if not _blank(raw.get("submitted_date")):
        day = _day(raw["submitted_date"])
        if day is None:
            err("submitted_date", "date", raw["submitted_date"])
        elif day.year < importer.MIN_YEAR:
            err("submitted_date", "too_old", raw["submitted_date"], importer.MIN_YEAR)
            day = None
        elif day > today:
            err("submitted_date", "future_date", raw["submitted_date"], today.isoformat())
    out["submitted_date"] = day
    return out, errors


def request_number_seq(request_no: str, year: int) -> int:
    m = REQUEST_NO_PATTERN.match(str(request_no))
    return int(m.group(2)) if m and int(m.group(1)) == year else 0


def number_requests(rows: list[dict], existing: set[str]) -> list[dict]:
    """Give every row without a request number the next free ALS-CG-<year>-<nnnn> of its
    submission year (after the highest number of that year in `existing` and in the rows)."""
    taken = set(existing) | {r["request_no"] for r in rows if r["request_no"]}
    out = []
    for r in rows:
        if not r["request_no"]:
            year = r["submitted_date"].year
            seq = 1 + max((request_number_seq(n, year) for n in taken), default=0)
            r = {**r, "request_no": f"{REQUEST_NO_PREFIX}-{year}-{seq:04d}"}
            taken.add(r["request_no"])
        out.append(r)
    return out


def header_fields(frame_columns, aliases: Mapping[str, str]) -> tuple[dict[str, str], list[FieldError]]:
    """Map a file's headers to REQUEST_FIELDS through `aliases` (normalised header → field: the
    field ids and their labels in every language). Unknown headers and missing required columns
    are errors; a field named twice is an error."""
    mapping: dict[str, str] = {}
    errors: list[FieldError] = []
    for col in frame_columns:
        key = D.normalise(col)
        field = aliases.get(key)
        if field is None:
            errors.append(FieldError("file", "unknown_column", str(col), 1))
        elif field in mapping.values():
            errors.append(FieldError("file", "duplicate_column", str(col), 1))
        else:
            mapping[str(col)] = field
    for f in REQUIRED_FIELDS:
        if f not in mapping.values():
            errors.append(FieldError(f, "missing_column", f, 1))
    return mapping, errors


def parse_request_table(frame: pd.DataFrame, ref: Reference, today: date, aliases: Mapping[str, str],
                        existing_nos: set[str]) -> tuple[list[dict], list[FieldError]]:
    """Every row of an imported table checked; all rows are returned only when there is no error
    anywhere (all-or-nothing). The frame's index is the row number in the file (header = row 1;
    `read_request_file` sets it). Request numbers given in the file must be new and unique; the
    others are numbered."""
    mapping, errors = header_fields(frame.columns, aliases)
    if errors:
        return [], errors
    if frame.empty:
        return [], [FieldError("file", "no_rows", "", 1)]
    rows: list[dict] = []
    seen: dict[str, int] = {}
    renamed = frame.rename(columns=mapping)
    for file_row, rec in zip(renamed.index, renamed.to_dict("records")):
        file_row = int(file_row)
        if all(_blank(v) for v in rec.values()):
            continue
        clean, errs = clean_request(rec, ref, today, row=file_row)
        errors.extend(errs)
        for f in FREE_TEXT_FIELDS:  # a formula cell reads as its formula text, not as its value
            if importer.text_problem(clean[f]) == "formula":
                errors.append(FieldError(f, "formula", clean[f][:80], file_row))
        no = clean["request_no"]
        if no and no in existing_nos:
            errors.append(FieldError("request_no", "request_no_taken", no, file_row))
        elif no and no in seen:
            errors.append(FieldError("request_no", "request_no_repeated", no, file_row, str(seen[no])))
        if no:
            seen.setdefault(no, file_row)
        rows.append(clean)
    if not rows and not errors:
        errors.append(FieldError("file", "no_rows", "", 1))
    return ([] if errors else number_requests(rows, existing_nos)), errors


def read_request_file(file_name: str, data: bytes) -> pd.DataFrame:
    """The first non-blank table of a CSV or XLSX file as text cells, indexed by file row
    number. Raises `dashboard.importer.FileReadError` when the file cannot be read."""
    table = importer.read_grid(file_name, data)
    width = max([len(table.headers)] + [len(cells) for _, cells in table.rows])
    headers = list(table.headers) + [""] * (width - len(table.headers))
    cells = [[None if c is None else str(c) for c in (list(cells) + [None] * width)[:width]] for _, cells in table.rows]
    frame = pd.DataFrame(cells, columns=headers, index=[r for r, _ in table.rows], dtype=object)
    # An unnamed column is dropped when it is empty (a trailing separator, a formatted empty cell);
    # one with values is kept, so that the header check refuses it instead of losing its cells.
    keep = [bool(h) or not all(_blank(v) for v in frame.iloc[:, i]) for i, h in enumerate(headers)]
    return frame.loc[:, keep]


def header_aliases(catalogues: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """Normalised header → field, from the field ids and their labels (purchases.field.<id>) in
    every catalogue, so a file written in either language imports."""
    out = {D.normalise(f): f for f in REQUEST_FIELDS}
    for cat in catalogues.values():
        for f in REQUEST_FIELDS:
            label = cat.get(f"purchases.field.{f}")
            if label:
                out[D.normalise(label)] = f
    return out


def check_of(request: Mapping, on_date: date | None = None) -> D.PurchaseCheck:
    """The duplicate-check input of a stored request (a row of `queries.purchase_requests`)."""
    return D.PurchaseCheck(
        name=str(request["instrument_name"]), price_cny=float(request["quoted_price"]),
        model=_text(request.get("model")), class_code=_text(request.get("class_code")),
        unit_id=int(request["applicant_unit_id"]), maker=_text(request.get("manufacturer")),
        specs=_text(request.get("key_specs")), on_date=on_date)


# ------------------------------------------------------------------------------------ distances


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km on a sphere of radius 6371 km."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def match_distances(matches: pd.DataFrame, region_code: str, units: pd.DataFrame, regions: pd.DataFrame) -> pd.Series:
    """Distance (km, 1 decimal) from the request's location (the seat of its region) to each
    match: the holder's coordinates when the register has them, else the seat of the
    instrument's region. NaN where neither end has coordinates."""
    seats = regions.set_index(regions["code"].astype(str))[["lat", "lon"]].astype(float)
    if matches.empty or str(region_code) not in seats.index:
        return pd.Series(np.nan, index=matches.index, dtype=float)
    origin = seats.loc[str(region_code)]
    by_unit = units.set_index(units["id"].astype(int))[["lat", "lon"]].astype(float)
    lat = matches["unit_id"].astype(int).map(by_unit["lat"])
    lon = matches["unit_id"].astype(int).map(by_unit["lon"])
    missing = lat.isna() | lon.isna()
    lat = lat.where(~missing, matches["region_code"].astype(str).map(seats["lat"]))
    lon = lon.where(~missing, matches["region_code"].astype(str).map(seats["lon"]))
    return pd.Series(haversine_km(origin["lat"], origin["lon"], lat, lon), index=matches.index).round(1)


def check_snapshot(request: D.PurchaseCheck, rec: D.Recommendation, distances: pd.Series | None = None,
                   review: D.ReviewRules = D.ReviewRules()) -> dict:
    """What is kept of a check run: `dupcheck.to_dict` with the English names and the distance of
    every match, and the review rules it ran under."""
    out = D.to_dict(request, rec, english=True)
    dist = distances if distances is not None else pd.Series(np.nan, index=rec.matches.index)
    for m, d in zip(out["matches"], dist.to_numpy()):
        m["distance_km"] = None if pd.isna(d) else float(d)
    out["review_rules"] = {"tier_edges_cny": list(review.tier_edges_cny), "low_use_hours": review.low_use_hours,
                           "saturation_hours": review.saturation_hours, "history_years": review.history_years}
    return out


def latest_check(checks: pd.DataFrame, request_id: int) -> dict | None:
    """The newest check run of a request (rows of `queries.duplicate_checks`) as its snapshot plus
    id, checked_at (ISO, UTC) and checked_by; None when the request was never checked."""
    runs = checks[checks["request_id"].astype(int) == int(request_id)] if len(checks) else checks
    if runs.empty:
        return None
    last = runs.sort_values("id").iloc[-1]
    at = pd.Timestamp(last["checked_at"])
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    return {**json.loads(last["snapshot_json"]), "id": int(last["id"]), "checked_at": at.isoformat(),
            "checked_by": str(last["checked_by"])}


# ------------------------------------------------------------------------------------ decisions


def verdict_id(value) -> str:
    """pass / adjust / reject of a stored verdict (通过 / 调整 / 不予通过) or of an id."""
    s = _text(value)
    for vid, word in VERDICT_VALUES.items():
        if s in (vid, word):
            return vid
    raise ValueError(f"unknown verdict {value!r}")


def clean_decision(raw: Mapping, submitted: date, today: date) -> tuple[dict, list[FieldError]]:
    """Check a decision: verdict (an id or the stored word), reasons and reviewers required,
    conditions required for 调整, decided_date between the submission and today."""
    errors: list[FieldError] = []

    def err(field, code, value="", limit=""):
        errors.append(FieldError(field, code, _text(value)[:80], None, str(limit)))

    out: dict = {}
    try:
        out["verdict"] = VERDICT_VALUES[verdict_id(raw.get("verdict"))]
    except ValueError:
        err("verdict", "verdict", raw.get("verdict"))
        out["verdict"] = None
    for f, limit in (("reasons", TEXT_MAX), ("conditions", TEXT_MAX), ("reviewers", SHORT_MAX)):
        value = _text(raw.get(f))
        if len(value) > limit:
            err(f, "too_long", value, limit)
        elif importer.text_problem(value) == "bad_characters":
            err(f, "bad_characters", value)
        out[f] = value
    for f in ("reasons", "reviewers"):
        if not out[f]:
            err(f, "required")
    if out["verdict"] == VERDICT_VALUES[D.ADJUST] and not out["conditions"]:
        err("conditions", "conditions_required")
    day = _day(raw.get("decided_date")) if not _blank(raw.get("decided_date")) else today
    if day is None:
        err("decided_date", "date", raw.get("decided_date"))
    elif day > today:
        err("decided_date", "future_date", day.isoformat(), today.isoformat())
    elif day < submitted:
        err("decided_date", "before_submission", day.isoformat(), submitted.isoformat())
    out["decided_date"] = day
    return out, errors


def current_decisions(decisions: pd.DataFrame) -> pd.DataFrame:
    """The decision in force per request: the one no other decision supersedes (the newest by
    id if the chain were ever forked). Columns of `decisions`, request id order."""
    if decisions.empty:
        return decisions.copy()
    superseded = set(decisions["supersedes_id"].dropna().astype(int))
    live = decisions[~decisions["id"].astype(int).isin(superseded)]
    return live.sort_values("id").groupby("request_id", as_index=False).tail(1).sort_values("request_id") \
        .reset_index(drop=True)


STAT_COLUMNS = ("year", "requests", "requested_cny", "decided", "pass", "adjust", "reject", "approved_cny",
                "avoided_cny", "pending")


def decision_statistics(requests: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Per submission year and a total row (year = None, last): requests, requested value
    (Σ quoted price), decided requests, how many of each verdict in force, approved value
    (Σ quoted price of requests whose decision in force is 通过 or 调整), avoided value
    (Σ quoted price of requests whose decision in force is 不予通过: fiscal money not spent on
    a duplicate), pending (not decided). Money in CNY."""
    cur = current_decisions(decisions)
    frame = requests[["id", "quoted_price", "submitted_date"]].copy()
    frame["year"] = pd.to_datetime(frame["submitted_date"]).dt.year
    verdict = cur.set_index("request_id")["verdict"].map(verdict_id) if len(cur) else pd.Series(dtype=object)
    frame["verdict"] = frame["id"].map(verdict)
    price = frame["quoted_price"].astype(float)

    def summary(part: pd.DataFrame, year) -> dict:
        p = price.loc[part.index]
        v = part["verdict"]
        return {"year": year, "requests": len(part), "requested_cny": float(p.sum()), "decided": int(v.notna().sum()),
                "pass": int((v == D.PASS).sum()), "adjust": int((v == D.ADJUST).sum()),
                "reject": int((v == D.REJECT).sum()), "approved_cny": float(p[v.isin(APPROVING)].sum()),
                "avoided_cny": float(p[v == D.REJECT].sum()), "pending": int(v.isna().sum())}

    rows = [summary(part, int(y)) for y, part in frame.groupby("year", sort=True)]
    rows.append(summary(frame, None))
    return pd.DataFrame(rows, columns=list(STAT_COLUMNS))


__all__ = [
    "APPROVING", "CHECKED", "DECIDED", "DECISION_FIELDS", "FieldError", "REQUEST_FIELDS", "REQUIRED_FIELDS",
    "Reference", "ReviewError", "STATUSES", "SUBMITTED", "VERDICT_VALUES", "check_of", "check_snapshot",
    "clean_decision", "clean_request", "current_decisions", "decision_statistics", "haversine_km",
    "header_aliases", "latest_check", "match_distances", "number_requests", "parse_request_table", "read_request_file", "verdict_id",
]
