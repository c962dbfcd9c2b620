"""The deterministic Alxa League demonstration data: generator (pure) and loader (store)."""

from __future__ import annotations

import argparse
from datetime import timedelta, timezone

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlmodel import Session

from dashboard.demo import (
    FRAME_TABLES,
    SCALES,
    VOUCHER_SUBSIDY_RATE,
    generate_demo,
    run_demo,
    scale_of,
    table_columns,
    vocabulary,
)
from dashboard.i18n import Translator
from dashboard.national import EXEMPT_REASONS, SHARE_MODES, STATUSES
from models import queries as q
from models import tables as T
from models.services.demo import StoreNotEmpty, load_demo


@pytest.fixture(scope="module")
def demo():
    return generate_demo(2016)


def _annual(demo) -> pd.DataFrame:
    """Annual usage per instrument-year with value and months reported."""
    a = (
        demo.usage.groupby(["instrument_id", "year"])
        .agg(effective=("effective_hours", "sum"), external=("external_hours", "sum"), months=("month", "size"))
        .reset_index()
    )
    return a.merge(demo.instruments[["id", "original_value"]], left_on="instrument_id", right_on="id")


def _reporting_unit_ids(demo) -> set[int]:
    return set(demo.instruments.loc[demo.instruments["id"].isin(demo.usage["instrument_id"]), "unit_id"])


# ----------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames(demo):
    again = generate_demo(2016)
    for name in FRAME_TABLES:
        pd.testing.assert_frame_equal(getattr(demo, name), getattr(again, name), obj=name)


def test_other_seed_gives_different_data(demo):
    other = generate_demo(2017)
    assert not demo.instruments["original_value"].equals(other.instruments["original_value"])
    assert not demo.usage["effective_hours"].equals(other.usage["effective_hours"])
    assert list(demo.units["name"]) == list(other.units["name"])  # same league, other draws


def test_frames_carry_the_store_columns(demo):
    for name in FRAME_TABLES:
        assert list(getattr(demo, name).columns) == table_columns(name), name


def test_rejects_unknown_scale_and_non_positive_count():
    with pytest.raises(ValueError, match="scale"):
        generate_demo(scale="city")
    with pytest.raises(ValueError, match="positive"):
        generate_demo(instruments=0)


# ----------------------------------------------------------------------------- units


def test_league_counts_within_ranges(demo):
    c = demo.counts()
    assert 25 <= c["units"] <= 40
    assert 250 <= c["instruments"] <= 450
    assert 10 <= c["purchase_requests"] <= 20
    assert c["usage"] > 10_000 and c["services"] > 5_000 and c["redemptions"] > 100


def test_units_cover_banners_zones_and_the_realistic_kinds(demo):
    u = demo.units
    assert set(u["region_code"]) == {"152921", "152922", "152923", "Z01", "Z02", "Z03"}
    assert {"高校", "科研院所", "医疗卫生", "检验检测", "企业", "其他"} <= set(u["unit_type"])
    names = " ".join(u["name"])
    for word in ("阿拉善职业技术学院", "蒙医医院", "疾病预防控制中心", "胡杨林生态水文", "荒漠生态系统野外观测",
                 "产品质量计量检测", "食品药品检验", "气象局", "生态环境监测", "林业和草原研究所",
                 "农牧业科学研究所", "苁蓉", "盐化工", "煤化工"):
        assert word in names, word
    assert u["name"].is_unique
    # Salt and coal chemistry sit in the Wusitai zone (Z01).
    assert set(u.loc[u["name"].str.contains("盐化工|煤化工"), "region_code"]) == {"Z01"}


def test_unit_coordinates_near_their_seat(demo):
    seats = vocabulary().regions
    u = demo.units.join(seats[["lat", "lon", "kind"]], on="region_code", suffixes=("", "_seat"))
    zone = u["kind"] == "zone"
    assert (u.loc[zone, "lat"] == u.loc[zone, "lat_seat"]).all()
    assert (u.loc[zone, "lon"] == u.loc[zone, "lon_seat"]).all()
    assert ((u["lat"] - u["lat_seat"]).abs() < 0.1).all() and ((u["lon"] - u["lon_seat"]).abs() < 0.1).all()


def test_credit_codes_have_valid_check_characters(demo):
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    for code, kind in zip(demo.units["credit_code"], demo.units["unit_type"]):
        assert len(code) == 18 and code[:2] == ("91" if kind == "企业" else "12")
        total = sum(chars.index(c) * w for c, w in zip(code[:17], weights))
        assert code[17] == chars[(31 - total % 31) % 31]


# ----------------------------------------------------------------------------- instruments


def test_values_at_or_above_floor_in_whole_hundreds_with_a_handful_above_2m(demo):
    v = demo.instruments["original_value"]
    assert (v >= 50_000).all()
    assert (v % 100 == 0).all()
    assert 3 <= (v > 2_000_000).sum() <= 25


def test_class_codes_are_valid_six_digit_codes_across_the_classification(demo):
    ref = pd.read_csv("data/reference/instrument_classes.csv", dtype={"code": str})
    middle = set(ref.loc[ref["level"] == 2, "code"])
    codes = demo.instruments["class_code"]
    assert codes.str.fullmatch(r"\d{6}").all()
    assert codes.str[:4].isin(middle).all()
    assert codes.str[:2].nunique() >= 8


def test_purpose_mostly_follows_class_reading_with_exceptions(demo):
    i = demo.instruments
    reading = np.where(i["class_code"].str[:2].isin(["01", "02", "03"]), "通用", "专用")
    differs = (i["purpose"] != reading).mean()
    assert 0 < differs < 0.15


def test_enumerations_and_exemptions(demo):
    i = demo.instruments
    assert set(i["share_mode"]) == set(SHARE_MODES)
    assert i["share_mode"].value_counts().index[0] == "外部共享"
    assert set(i["status"]) <= set(STATUSES) and (i["status"] == "正常").mean() > 0.7
    assert {"待修", "待报废"} & set(i["status"])
    exempt = i[i["exempt_reason"] != ""]
    assert 3 <= len(exempt) <= 6
    assert (exempt["share_mode"] == "不共享").all() and set(exempt["exempt_reason"]) <= set(EXEMPT_REASONS)


def test_operation_modes_match_the_pool_units(demo):
    i = demo.instruments.merge(demo.units[["id", "note", "name"]], left_on="unit_id", right_on="id")
    agency = i["name"].str.contains("代理运营")
    leased = i["name"].str.contains("公共检测仪器运营")
    assert agency.any() and leased.any()
    assert (i.loc[agency, "operation_mode"] == "代理").all()
    assert (i.loc[leased, "operation_mode"] == "融资租赁").all()
    assert (i.loc[~agency & ~leased, "operation_mode"] == "自营").all()
    assert (i.loc[i["operation_mode"] != "自营", "share_mode"] == "外部共享").all()


def test_inner_ids_unique_within_unit_and_text_fields_filled(demo):
    i = demo.instruments
    assert not i.duplicated(["unit_id", "inner_id"]).any()
    for col in ("name_zh", "name_en", "manufacturer", "model", "country", "functions", "technical_specs",
                "service_content", "contact", "phone"):
        assert (i[col].str.len() > 0).all(), col
    years = pd.to_datetime(i["start_date"]).dt.year
    assert years.min() >= 2008 and years.max() <= 2024


# ----------------------------------------------------------------------------- usage


def test_usage_invariants(demo):
    u = demo.usage.merge(demo.instruments[["id", "start_date"]], left_on="instrument_id", right_on="id")
    month_hours = pd.to_datetime(pd.DataFrame({"year": u["year"], "month": u["month"], "day": 1})).dt.days_in_month * 24
    assert (u["effective_hours"] >= 0).all() and (u["effective_hours"] <= month_hours).all()
    assert (u["effective_hours"] + u["downtime_hours"] <= month_hours + 1e-9).all()
    assert (u["external_hours"] <= u["effective_hours"]).all()
    start = pd.to_datetime(u["start_date"])
    assert ((u["year"] * 12 + u["month"]) >= (start.dt.year * 12 + start.dt.month)).all()
    assert set(u["year"]) == {2021, 2022, 2023, 2024, 2025}
    assert not u.duplicated(["instrument_id", "year", "month"]).any()


@pytest.mark.parametrize("seed", [2016, 1, 99])
def test_league_averages_sit_near_the_inner_mongolia_figures(seed):
    demo = generate_demo(seed)
    a = _annual(demo)
    big = a[a["original_value"] >= 300_000]
    assert 600 <= big["effective"].mean() <= 800
    assert 250 <= big["external"].mean() <= 350


def test_busy_and_idle_instruments_exist(demo):
    full_years = _annual(demo).query("months == 12")
    assert full_years.loc[full_years["effective"] > 1200, "instrument_id"].nunique() >= 10
    assert full_years.loc[full_years["effective"] < 200, "instrument_id"].nunique() >= 10


def test_two_or_three_units_never_report(demo):
    holders = set(demo.instruments["unit_id"])
    never = holders - _reporting_unit_ids(demo)
    assert 2 <= len(never) <= 3
    subs = demo.submissions
    assert subs.loc[subs["unit_id"].isin(never), "submitted_at"].isna().all()
    assert subs.loc[~subs["unit_id"].isin(never), "submitted_at"].notna().mean() > 0.97


def test_some_units_report_late(demo):
    s = demo.submissions.dropna(subset=["submitted_at"])
    local_day = (s["submitted_at"] + pd.Timedelta(hours=8)).dt.date
    s = s.assign(late=local_day > s["due_date"])
    late_share = s.groupby("unit_id")["late"].mean()
    assert (late_share > 0.3).sum() >= 3
    assert (late_share < 0.15).sum() >= 15


def test_submissions_one_per_unit_month_due_on_the_tenth(demo):
    s = demo.submissions
    assert not s.duplicated(["unit_id", "kind", "year", "month"]).any()
    assert set(s["kind"]) == {"usage"}
    due = pd.to_datetime(s["due_date"])
    assert (due.dt.day == 10).all()
    assert ((due.dt.year * 12 + due.dt.month) == (s["year"] * 12 + s["month"] + 1)).all()
    submitted = s["submitted_at"].dropna()
    assert all(ts.tzinfo is not None and ts.utcoffset() == timedelta(0) for ts in submitted.head(50))
    # A reporting unit's usage rows lie in months it submitted for.
    rows = demo.usage.merge(demo.instruments[["id", "unit_id"]], left_on="instrument_id", right_on="id")
    keys = set(zip(s["unit_id"], s["year"], s["month"]))
    assert set(zip(rows["unit_id"], rows["year"], rows["month"])) <= keys


def test_three_to_six_nominally_open_instruments(demo):
    ext = demo.usage.groupby("instrument_id")["external_hours"].sum()
    served = set(demo.services.loc[demo.services["user_type"] == "外部用户", "instrument_id"])
    i = demo.instruments
    reporting = i["id"].isin(demo.usage["instrument_id"])
    nominal = i[reporting & (i["share_mode"] == "外部共享") & (i["id"].map(ext) == 0) & ~i["id"].isin(served)]
    assert 3 <= len(nominal) <= 6


# ----------------------------------------------------------------------------- services


def test_external_service_quantities_add_up_to_external_hours(demo):
    s = demo.services.assign(year=demo.services["start_time"].dt.year, month=demo.services["start_time"].dt.month)
    ext_rec = s[s["user_type"] == "外部用户"]
    per_month = ext_rec.groupby(["instrument_id", "year", "month"])["service_quantity"].agg(["sum", "size"])
    usage = demo.usage.set_index(["instrument_id", "year", "month"])["external_hours"]
    both = per_month.join(usage, how="outer").fillna(0)
    # Quantities are rounded to half hours: each record can move the month's sum by 0.25 h.
    assert ((both["sum"] - both["external_hours"]).abs() <= 0.25 * both["size"] + 0.5).all()
    assert ((both["external_hours"] > 0) == (both["size"] > 0)).all()


def test_service_records_are_well_formed(demo):
    s = demo.services.merge(demo.instruments[["id", "unit_id", "start_date"]], left_on="instrument_id", right_on="id")
    assert (s["end_time"] > s["start_time"]).all()
    assert (s["start_time"].dt.date >= s["start_date"]).all()
    assert not s.duplicated(["instrument_id", "start_time", "applicant_unit"]).any()
    assert set(s["user_type"]) == {"内部用户", "外部用户"}
    internal = s[s["user_type"] == "内部用户"]
    unit_name = demo.units.set_index("id")["name"]
    assert (internal["applicant_unit"].to_numpy() == unit_name.loc[internal["unit_id"]].to_numpy()).all()
    external = s[s["user_type"] == "外部用户"]
    assert (external["applicant_unit"].to_numpy() != unit_name.loc[external["unit_id"]].to_numpy()).all()
    assert {"本地中小企业", "盟外企业", "科研院所"} <= set(external["client_kind"])
    assert (s["client_region_code"].str.len() > 0).all() and (s["service_amount_cny"] >= 0).all()


def test_voucher_amounts_agree_across_services_vouchers_and_redemptions(demo):
    s, v, r = demo.services, demo.vouchers, demo.redemptions
    paid = s[s["voucher_amount_cny"] > 0].set_index("id")
    assert set(paid.index) == set(r["service_record_id"])
    rr = r.set_index("service_record_id").loc[paid.index]
    assert np.allclose(rr["amount_cny"], paid["voucher_amount_cny"])
    assert (paid["voucher_amount_cny"] <= paid["service_amount_cny"]).all()
    assert np.allclose(r["subsidy_cny"], (r["amount_cny"] * VOUCHER_SUBSIDY_RATE).round(2))
    # Redeemed by the holder of the instrument, on the firm's voucher of that year, within quota.
    holder = demo.instruments.set_index("id")["unit_id"]
    assert (rr["unit_id"].to_numpy() == holder.loc[paid["instrument_id"]].to_numpy()).all()
    vv = v.set_index("id").loc[rr["voucher_id"]]
    assert (vv["firm_name"].to_numpy() == paid["applicant_unit"].to_numpy()).all()
    assert (vv["year"].to_numpy() == paid["start_time"].dt.year.to_numpy()).all()
    used = r.groupby("voucher_id")["amount_cny"].sum()
    assert (used <= v.set_index("id").loc[used.index, "quota_cny"] + 1e-6).all()
    assert (paid["client_kind"] == "本地中小企业").all()
    assert (pd.to_datetime(rr["redeemed_date"]).to_numpy() > paid["end_time"].to_numpy()).all()
    assert not v["code"].duplicated().any() and len(set(v["id"]) - set(r["voucher_id"])) > 0  # some unused


# ----------------------------------------------------------------------------- purchase requests


def test_purchase_requests_span_prices_statuses_and_duplicates(demo):
    pr, dec = demo.purchase_requests, demo.review_decisions
    price = pr["quoted_price"]
    assert price.min() >= 50_000 and price.max() <= 3_000_000
    assert price.min() < 100_000 and price.max() >= 2_000_000
    assert ((price >= 450_000) & (price < 500_000)).any()  # just under the 50万 panel line
    assert set(pr["status"]) == {"submitted", "checked", "decided"}
    assert set(dec["request_id"]) == set(pr.loc[pr["status"] == "decided", "id"])
    assert set(dec["verdict"]) <= {"通过", "调整", "不予通过"}
    superseding = dec.dropna(subset=["supersedes_id"])
    assert len(superseding) >= 1
    earlier = dec.set_index("id").loc[superseding["supersedes_id"].astype(int)]
    assert (earlier["request_id"].to_numpy() == superseding["request_id"].to_numpy()).all()

    # The HPLC request duplicates league instruments that sit under-used.
    a = _annual(demo).merge(demo.instruments[["id", "class_code"]], on="id")
    hplc = pr.loc[pr["instrument_name"] == "高效液相色谱仪", "class_code"].iloc[0]
    similar = a[(a["class_code"] == hplc) & (a["months"] == 12)]
    assert (similar["effective"] < 200).any()
    # Some requests have no counterpart in the league at all.
    assert (~pr["class_code"].isin(demo.instruments["class_code"])).sum() >= 1


def test_province_scale_honours_the_instrument_count():
    demo = generate_demo(7, scale="province", instruments=1500)
    league_units = len(vocabulary().units)
    assert len(demo.instruments) == 1500
    assert len(demo.units) == 29 * league_units == 1015 and demo.units["name"].is_unique
    assert len(demo.purchase_requests) == 29 * len(vocabulary().requests)
    assert SCALES["province"].instruments == 20_000 and not SCALES["province"].thinned


def test_national_scale_thins_the_service_records():
    demo = generate_demo(7, scale="national", instruments=600)
    assert len(demo.units) == 86 * len(vocabulary().units) == 3010 and demo.units["name"].is_unique
    assert SCALES["national"].instruments == 100_000 and SCALES["national"].thinned
    s = demo.services
    ext = s[s["user_type"] == "外部用户"]
    per_month = ext.groupby([ext["instrument_id"], ext["start_time"].dt.year, ext["start_time"].dt.month]).size()
    assert per_month.max() == 1  # one external record per instrument and month
    # ... which carries the whole month's external hours, in the last year only.
    assert set(s["start_time"].dt.year) == {2025}
    last = demo.usage[(demo.usage["year"] == 2025) & (demo.usage["external_hours"] > 0)]
    hours = last.set_index(["instrument_id", "year", "month"])["external_hours"]
    recorded = ext.groupby([ext["instrument_id"], ext["start_time"].dt.year, ext["start_time"].dt.month])[
        "service_quantity"].sum()
    assert len(recorded) == len(hours)
    assert np.array_equal(recorded.reindex(hours.index).to_numpy(), hours.to_numpy())


def test_alxa_is_the_league_scale():
    assert scale_of("alxa") == scale_of("league") == SCALES["league"]
    with pytest.raises(ValueError, match="unknown scale"):
        generate_demo(scale="continent")


# ----------------------------------------------------------------------------- store


def _count(engine, table) -> int:
    return q.count_rows(engine, table)


def test_load_demo_writes_every_table_sets_the_seed_and_audits(engine, demo):
    counts = load_demo(engine)
    assert counts == demo.counts()
    for name, table in FRAME_TABLES.items():
        assert _count(engine, table) == counts[name], name
    assert q.store_meta(engine, "demo_seed") == "2016"
    with Session(engine) as s:
        audit = s.exec(select(T.AuditEntry)).scalars().all()
        assert [a.action for a in audit] == ["demo.load"]
        # Local ids were mapped: voucher parts of services match their redemptions.
        pairs = s.exec(
            select(T.ServiceRecord.voucher_amount_cny, T.Redemption.amount_cny, T.Instrument.unit_id, T.Redemption.unit_id)
            .join(T.Redemption, T.Redemption.service_record_id == T.ServiceRecord.id)
            .join(T.Instrument, T.Instrument.id == T.ServiceRecord.instrument_id)
        ).all()
        assert len(pairs) == counts["redemptions"]
        assert all(abs(a - b) < 1e-6 and u1 == u2 for a, b, u1, u2 in pairs)
    stored = q.instruments(engine)
    assert stored["unit_name"].nunique() == demo.instruments["unit_id"].nunique()
    assert sorted(stored["original_value"]) == sorted(demo.instruments["original_value"])


def test_second_load_refused_without_replace_and_replace_swaps_data(engine):
    first = load_demo(engine, seed=11, instruments=60)
    revision_before = q.store_meta(engine, "data_revision")
    with pytest.raises(StoreNotEmpty) as info:
        load_demo(engine, seed=12, instruments=60)
    assert info.value.unit_count == first["units"]
    assert _count(engine, T.Instrument) == 60 and q.store_meta(engine, "demo_seed") == "11"
    assert q.store_meta(engine, "data_revision") == revision_before

    with Session(engine) as s:  # user data that a replace must remove too
        s.add(T.Scenario(name="kept?"))
        s.commit()
    again = load_demo(engine, seed=11, instruments=60, replace=True)
    assert again == first
    for name, table in FRAME_TABLES.items():
        assert _count(engine, table) == first[name], name  # replaced, not doubled
    assert _count(engine, T.Scenario) == 0
    assert _count(engine, T.Region) == 6 and _count(engine, T.InstrumentClass) == 89
    assert int(q.store_meta(engine, "data_revision")) > int(revision_before)
    assert q.store_meta(engine, "demo_seed") == "11"
    with Session(engine) as s:  # the audit trail survives the replace and records it
        audit = s.exec(select(T.AuditEntry).order_by(T.AuditEntry.id)).scalars().all()
        assert [a.action for a in audit] == ["demo.load", "demo.load"]
        assert "replace=True" in audit[-1].summary


def test_cli_demo_loads_then_refuses_then_replaces(engine, capsys):
    t = Translator("en")
    args = argparse.Namespace(seed=5, scale="league", instruments=40, replace=False)
    assert run_demo(engine, args, t) == 0
    out = capsys.readouterr().out
    assert "seed 5" in out and "Instruments: 40" in out

    assert run_demo(engine, args, t) == 2
    err = capsys.readouterr().err
    assert err.strip() == t("demo.cli.store_not_empty", units=_count(engine, T.Unit))
    assert _count(engine, T.Instrument) == 40

    args.replace, args.seed = True, 6
    assert run_demo(engine, args, t) == 0
    assert q.store_meta(engine, "demo_seed") == "6" and _count(engine, T.Instrument) == 40

    args.instruments = 0
    assert run_demo(engine, args, t) == 2
    assert "positive" in capsys.readouterr().err


def test_submission_times_and_dates_round_trip_through_the_store(engine):
    demo = generate_demo(3, instruments=30)
    load_demo(engine, seed=3, instruments=30)
    names = demo.units.set_index("id")["name"]
    expected = {
        (names[r.unit_id], r.year, r.month): (r.due_date, None if pd.isna(r.submitted_at) else r.submitted_at.to_pydatetime())
        for r in demo.submissions.itertuples()
    }
    with Session(engine) as s:
        rows = s.exec(select(T.Unit.name, T.Submission).join(T.Unit, T.Unit.id == T.Submission.unit_id)).all()
    assert len(rows) == len(expected)
    for name, sub in rows:
        due, submitted = expected[(name, sub.year, sub.month)]
        assert sub.due_date == due
        if submitted is None:
            assert sub.submitted_at is None
        else:  # stored as UTC; a backend may hand it back naive
            at = sub.submitted_at if sub.submitted_at.tzinfo else sub.submitted_at.replace(tzinfo=timezone.utc)
            assert at == submitted


def test_some_open_instruments_have_an_online_booking_page_and_closed_ones_none(demo):
    inst = demo.instruments
    has_url = inst["booking_url"] != ""
    assert (inst.loc[has_url, "share_mode"] == "外部共享").all()
    open_share = has_url[inst["share_mode"] == "外部共享"].mean()
    assert 0.3 < open_share < 0.9  # the online-booking indicator must vary between units
