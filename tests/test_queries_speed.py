"""The lean and fast store reads of issue 8 give what the plain reads gave.

- `queries._frame` turns rows into columns a part at a time: the frame is typed as one
  `from_records` of every row types it, also when a part holds only NULLs of a column.
- `services(engine, year)` asks the database for the year instead of reading every record and
  filtering in pandas; on SQLite every year read scans the rowid stretch of that year rather than
  looking each record up through the start_time index.
- `indicators.load_inputs` reads lean frames (`units_for_evaluation`,
  `instruments_for_evaluation`), and `compute_indicators` maps the service records' texts once per
  distinct value: the indicator matrix is the one the full frames and row-wise formulas give.

All on SQLite and PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sqlmodel import select

from dashboard import indicators as I
from dashboard.evaluation import current_scheme
from dashboard.national import RATING_SCORES
from models import queries as Q
from models import tables as T
from models.services.demo import load_demo
from tests.factories import add_instrument, add_service, add_unit

YEAR = 2025


def reference_frame(engine, stmt) -> pd.DataFrame:
    """The plain read: every row at once through `from_records`."""
    with engine.connect() as conn:
        result = conn.execute(stmt)
        columns = list(result.keys())
        rows = [tuple(row) for row in result]
    return pd.DataFrame.from_records(rows, columns=columns)


def reference_services(engine, year: int | None = None) -> pd.DataFrame:
    """`services` as it was: every record of every year read, the year filtered in pandas."""
    stmt = (
        select(T.ServiceRecord, T.Instrument.unit_id, T.Instrument.inner_id)
        .join(T.Instrument, T.Instrument.id == T.ServiceRecord.instrument_id)
        .order_by(T.ServiceRecord.id)
    )
    df = reference_frame(engine, stmt)
    if year is not None and not df.empty:
        df = df[pd.to_datetime(df["start_time"]).dt.year == year].reset_index(drop=True)
    return df


# =========================================================================== reading in parts


def test_a_frame_read_in_parts_is_typed_as_one_read(engine, monkeypatch):
    """Columns NULL in a whole part (object there), typed otherwise in other parts, come out as
    one read of all rows types them; columns typed alike in every part keep their type."""
    meta = sa.MetaData()
    probe = sa.Table(
        "frame_probe", meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.Integer, nullable=True),  # NULL in part 2 only → float64
        sa.Column("x", sa.Float, nullable=True),  # NULL in part 1 only → float64
        sa.Column("s", sa.String(20), nullable=True),  # NULL in part 3 only → str with NaN
        sa.Column("t", sa.DateTime, nullable=True),  # NULL in part 2 only → datetime64 with NaT
        sa.Column("d", sa.Date, nullable=True),  # dates stay objects
        sa.Column("b", sa.Boolean, nullable=True),  # NULL in part 1 only → object
        sa.Column("all_null", sa.String(20), nullable=True),
        sa.Column("k", sa.Integer, nullable=False),  # never NULL → int64 throughout
    )
    meta.create_all(engine)
    rows = []
    for i in range(1, 10):  # three parts of three rows
        part = (i - 1) // 3
        rows.append({
            "id": i, "n": None if part == 1 else i * 10, "x": None if part == 0 else i / 4,
            "s": None if part == 2 else f"值{i} ", "t": None if part == 1 else datetime(2025, 1, i, 9, 30),
            "d": None if i == 5 else date(2024, 2, i), "b": None if part == 0 else bool(i % 2),
            "all_null": None, "k": i,
        })
    with engine.begin() as conn:
        conn.execute(probe.insert(), rows)
    stmt = sa.select(probe).order_by(probe.c.id)
    expected = reference_frame(engine, stmt)
    monkeypatch.setattr(Q, "FRAME_CHUNK_ROWS", 3)
    got = Q._frame(engine, stmt)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert str(got["n"].dtype) == "float64" and str(got["k"].dtype) == "int64"
    assert got["t"].dtype.kind == "M" and got["t"].isna().sum() == 3
    # Empty and one-part reads are the plain read itself.
    for where in (probe.c.id < 0, probe.c.id <= 2):
        pd.testing.assert_frame_equal(Q._frame(engine, stmt.where(where)), reference_frame(engine, stmt.where(where)))


@pytest.fixture
def demo(engine):
    load_demo(engine, instruments=60)
    return engine


def test_every_query_reads_the_same_in_parts(demo, monkeypatch):
    engine = demo
    calls = {
        "regions": (), "instrument_classes": (), "units": (), "instruments": (), "usage_by_instrument_year": (),
        "usage_monthly": (), "services": (), "submissions": (), "purchase_requests": (), "review_decisions": (),
        "duplicate_checks": (), "audit_entries": (), "users": (), "units_for_evaluation": (),
        "instruments_for_evaluation": (),
    }
    whole = {name: getattr(Q, name)(engine, *args) for name, args in calls.items()}
    monkeypatch.setattr(Q, "FRAME_CHUNK_ROWS", 7)
    for name, args in calls.items():
        pd.testing.assert_frame_equal(getattr(Q, name)(engine, *args), whole[name], check_exact=True, obj=name)
    assert len(whole["usage_monthly"]) > 7 and len(whole["services"]) > 7  # really read in parts


# =========================================================================== services of a year


def interleaved_services(engine) -> int:
    """Service records whose ids interleave the years (as the demo generator writes them), with
    records on the edges of 2025; returns the instrument id."""
    unit = add_unit(engine, "年界研究院")
    inst = add_instrument(engine, unit, "EDGE-1", "边界测试仪")
    starts = [datetime(2024, 12, 31, 23, 59, 59, 999999), datetime(2025, 1, 1, 0, 0), datetime(2023, 6, 1, 9),
              datetime(2025, 7, 1, 9), datetime(2026, 1, 1, 0, 0), datetime(2025, 12, 31, 23, 59, 59, 999999),
              datetime(2024, 3, 1, 9), datetime(2025, 2, 1, 9), datetime(2026, 5, 1, 9)]
    for k, start in enumerate(starts):
        add_service(engine, inst, start, f"客户{k}", 100.0 + k, end_time=start, rating="满意" if k % 2 else "",
                    user_type="外部用户" if k % 3 else "内部用户", voucher_amount_cny=float(k % 2) * 10)
    return inst


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026, 2019])
def test_services_of_a_year_are_the_rows_of_the_old_pandas_filter(engine, year):
    interleaved_services(engine)
    got = Q.services(engine, year)
    pd.testing.assert_frame_equal(got, reference_services(engine, year), check_exact=True)
    if year == 2025:
        assert len(got) == 4 and got["start_time"].is_monotonic_increasing is False  # ordered by id, not time
        assert got["start_time"].min() == pd.Timestamp(2025, 1, 1)
        assert got["start_time"].max() == pd.Timestamp("2025-12-31 23:59:59.999999")
    fast = Q.services_for_evaluation(engine, year)
    if year == 2019:
        assert got.empty and list(got.columns) == list(reference_services(engine).columns) and fast.empty
        return
    pd.testing.assert_frame_equal(fast, reference_services(engine, year)[list(fast.columns)], check_exact=True)


def test_services_of_every_year_and_of_all_years_on_the_demo(demo):
    pd.testing.assert_frame_equal(Q.services(demo), reference_services(demo), check_exact=True)
    for year in Q.usage_years(demo) + [min(Q.usage_years(demo)) - 1]:
        pd.testing.assert_frame_equal(Q.services(demo, year), reference_services(demo, year), check_exact=True)


def test_services_of_a_year_in_an_empty_store(engine):
    pd.testing.assert_frame_equal(Q.services(engine, YEAR), reference_services(engine, YEAR))
    assert Q.services_for_evaluation(engine, YEAR).empty


def test_sqlite_year_reads_scan_the_rowid_stretch_of_the_year(engine):
    """On SQLite the year's records are read by rowid between the first and the last record of
    the year, in id order without a sort, instead of one index lookup per record."""
    if engine.dialect.name != "sqlite":
        pytest.skip("a SQLite query plan")
    S = T.ServiceRecord
    stmt = (select(S.id, T.Instrument.unit_id).join(T.Instrument, T.Instrument.id == S.instrument_id)
            .where(*Q._in_year(engine, S.__table__.c.start_time, YEAR)).order_by(S.id))
    sql = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert any("servicerecord USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


# =========================================================================== the indicator matrix


def full_inputs(engine, year: int) -> I.EvaluationInputs:
    """The inputs as they were read before the lean queries: every column of units and
    instruments, every column of the year's service records (start_time included)."""
    return I.EvaluationInputs(
        units=Q.units(engine), instruments=Q.instruments(engine),
        usage_year=Q.usage_by_instrument_year(engine, year), services_year=reference_services(engine, year),
        submissions_year=Q.submissions(engine, year, kind=I.USAGE_KIND),
    )


def rowwise_service_indicators(inputs: I.EvaluationInputs, year: int) -> pd.DataFrame:
    """The four service indicators with the row-wise formulas they had (text cleaned per row)."""
    def text(series):
        return series.fillna("").astype(str).str.strip()

    elig = I.eligible_instruments(inputs.instruments, year).set_index("id")
    units = pd.Index(inputs.units["id"], name="unit_id")
    svc = inputs.services_year
    if "start_time" in svc.columns and not svc.empty:
        svc = svc[pd.to_datetime(svc["start_time"]).dt.year == year]
    svc = svc[svc["instrument_id"].isin(elig.index)].copy()
    svc["unit_id"] = svc["instrument_id"].map(elig["unit_id"])
    ext = svc[text(svc["user_type"]) == I.EXTERNAL_USER]
    names = text(ext["applicant_unit"])
    clients = ext.assign(client=names)[names != ""].groupby("unit_id")["client"].nunique()
    income = ext.groupby("unit_id")["service_amount_cny"].sum().reindex(units, fill_value=0).astype(float)
    value = elig.groupby("unit_id")["original_value"].sum().reindex(units, fill_value=0).astype(float)
    scores = text(svc["rating"]).map(RATING_SCORES).astype(float)
    rated = svc.assign(score=scores)[scores.notna()]
    paid = svc[svc["voucher_amount_cny"].fillna(0) > 0]
    return pd.DataFrame({
        "outside_clients": clients.reindex(units, fill_value=0).astype(float),
        "external_income_ratio": (income / value.where(value > 0)).astype(float),
        "user_rating": rated.groupby("unit_id")["score"].mean().reindex(units).astype(float),
        "voucher_services": paid.groupby("unit_id").size().reindex(units, fill_value=0).astype(float),
    }, index=units)


def assert_same_matrix(engine, year: int) -> I.IndicatorTable:
    scheme = current_scheme(engine)
    lean = I.compute_indicators(I.load_inputs(engine, year), year, scheme)
    full = full_inputs(engine, year)
    pd.testing.assert_frame_equal(lean.raw, I.compute_indicators(full, year, scheme).raw, check_exact=True)
    pd.testing.assert_frame_equal(lean.units, I.compute_indicators(full, year, scheme).units, check_exact=True)
    service_ids = [c for c in rowwise_service_indicators(full, year).columns if c in lean.raw.columns]
    pd.testing.assert_frame_equal(lean.raw[service_ids], rowwise_service_indicators(full, year)[service_ids],
                                  check_exact=True)
    return lean


def test_lean_reads_are_the_columns_of_the_full_reads(demo):
    units = Q.units_for_evaluation(demo)
    pd.testing.assert_frame_equal(units, Q.units(demo)[list(units.columns)], check_exact=True)
    inst = Q.instruments_for_evaluation(demo)
    pd.testing.assert_frame_equal(inst, Q.instruments(demo)[list(inst.columns)], check_exact=True)
    assert list(inst.columns) == ["id", "unit_id", "start_date", "status", "exempt_reason", "share_mode",
                                  "booking_url", "purpose", "original_value"]


def test_indicator_matrix_of_the_demo_is_unchanged_every_year(demo):
    for year in Q.usage_years(demo):
        table = assert_same_matrix(demo, year)
    assert table.raw["outside_clients"].sum() > 0 and table.raw["user_rating"].notna().any()


def test_indicator_matrix_with_untidy_service_texts_is_unchanged(engine):
    """Texts with spaces (ASCII and ideographic), missing ratings and clients: cleaned per distinct
    value, they count as cleaned per row."""
    a = add_unit(engine, "甲院")
    b = add_unit(engine, "乙所")
    insts = [add_instrument(engine, u, f"I{k}", "仪器") for u in (a, b) for k in range(3)]
    texts = [("外部用户", "丙公司", "非常满意"), (" 外部用户", " 丙公司 ", "满意 "), ("外部用户\u3000", "丁公司", ""),
             ("内部用户", "甲院", "一般"), ("外部用户", "", "不满意"), ("外部用户", "戊公司\t", "非常满意"),
             ("其他", "己公司", "极差")]
    for k in range(42):
        user_type, client, rating = texts[k % len(texts)]
        add_service(engine, insts[k % len(insts)], datetime(YEAR, 1 + k % 12, 1 + k % 27, 9), client,
                    1000.0 + 0.1 * k, user_type=user_type, rating=rating, voucher_amount_cny=float(k % 3 == 0))
    table = assert_same_matrix(engine, YEAR)
    assert table.raw.loc[a, "outside_clients"] == 3  # 丙公司, 丁公司, 戊公司


def test_literal_inputs_with_missing_texts_compute_as_row_wise(engine):
    """NaN and None in the service texts (literal frames, not from the store)."""
    inst = pd.DataFrame({"id": [1, 2, 3], "unit_id": [1, 1, 2], "start_date": pd.to_datetime(["2018-05-01"] * 3),
                         "status": "正常", "exempt_reason": "", "share_mode": "外部共享", "booking_url": "",
                         "purpose": "通用", "original_value": 100_000.0})
    svc = pd.DataFrame({
        "instrument_id": [1, 1, 2, 3, 3, 2],
        "user_type": ["外部用户", None, " 外部用户", np.nan, "外部用户", "外部用户"],
        "applicant_unit": ["甲", "乙", None, "丙", " 丙", np.nan],
        "service_amount_cny": [10.5, 20.25, 30.0, 1.0, 2.0, 4.0],
        "rating": [None, "非常满意", np.nan, " 一般", "满意", "极差"],
        "voucher_amount_cny": [0.0, np.nan, 5.0, 1.0, 0.0, 2.0],
    }, dtype=object).astype({"instrument_id": int, "service_amount_cny": float, "voucher_amount_cny": float})
    inputs = I.EvaluationInputs(
        units=pd.DataFrame({"id": [1, 2], "name": ["U1", "U2"], "name_en": "", "unit_type": "高校",
                            "region_code": "152921"}),
        instruments=inst,
        usage_year=pd.DataFrame(columns=["instrument_id", "year", "effective_hours", "external_hours",
                                         "months_reported"]),
        services_year=svc,
        submissions_year=pd.DataFrame(columns=["unit_id", "kind", "year", "month", "due_date", "submitted_at"]),
    )
    raw = I.compute_indicators(inputs, YEAR, current_scheme(engine)).raw
    expected = rowwise_service_indicators(inputs, YEAR)
    pd.testing.assert_frame_equal(raw[list(expected.columns)], expected, check_exact=True)
    assert raw.loc[1, "outside_clients"] == 1 and raw.loc[2, "outside_clients"] == 1
