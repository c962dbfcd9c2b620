"""Layout analysis: every figure and finding checked against numbers worked out by hand.

The fixture: four regions (three banners; zone Z01 lies in 152921) and eight instruments.

| id | asset | class  | region | purpose | share | status | exempt | value (CNY) | eff. h 2025 |
|----|-------|--------|--------|---------|-------|--------|--------|-------------|-------------|
| 1  | A     | 010501 | 152921 | 通用    | 外部  | 正常   |        |   600,000   | 1000        |
| 2  | B     | 010502 | Z01    | 通用    | 外部  | 正常   |        |   400,000   |  300        |
| 3  | C     | 010502 | 152921 | 通用    | 内部  | 正常   |        |   200,000   |  500        |
| 4  | D     | 010503 | 152923 | 通用    | 外部  | 正常   |        | 1,000,000   | 1300        |
| 5  | E     | 020101 | 152923 | 专用    | 外部  | 待报废 |        |   300,000   |    0        |
| 6  | H     | 010504 | 152923 | 通用    | 外部  | 正常   | 国防   |   500,000   |  400        |
| 7  | I     | 010506 | 152923 | 通用    | 内部  | 正常   |        |   100,000   |  700        |
| 8  | G     | 070401 | 152921 | 专用    | 外部  | 正常   |        |   800,000   |  900        |

Lines 800 h (idle) / 1200 h (saturated): idle in service B, C, H, I; saturated D. Spare capacity
(in service and 外部共享): A 200, B 900, D 0, H 800, G 300 (C, I not open; E scrapped).

Service records of 2025. Demand hours are the 服务量 (service_quantity, the default "quantity"
basis); the "duration" basis takes end − start instead, which counts the nights of s2, s8, s10:

| rec | instr. | user  | client region | duration | 服务量 | amount |
|-----|--------|-------|---------------|----------|--------|--------|
| s1  | A      | 外部  | 152921        |   4 h    |   4    |  1,000 |
| s2  | A      | 外部  | Z01           |  56 h    |  24    |  5,000 |
| s3  | D      | 外部  | 152921        |  10 h    |  10    |  2,000 |
| s4  | D      | 内部  | 152923        |  20 h    |  20    |      0 |
| s5  | G      | 外部  | 152923        |   6 h    |   6    |    600 |
| s6  | A      | 外部  | 640100 (out)  |   8 h    |   8    |    800 |
| s7  | D      | 外部  | "" (unknown)  |   2 h    |   2    |    100 |
| s8  | B      | 外部  | 152922        |  30 h    |  12    |  3,000 |
| s9  | G      | 外部  | 152923        |  12 h    |  12    |  1,200 |
| s10 | A      | 外部  | 152923        | 960 h    | 320    | 20,000 |

s4 is internal (left out); s6's client is outside the league and s7's has no region: both are
reported apart (8 h and 2 h on either basis) and enter no cell. The league demand by cell (class of
the serving instrument × the client's banner; Z01 rolled up into 152921) against the spare capacity:

| cell         | records    | 服务量 h          | duration h        | spare | gap 服务量 | gap duration |
|--------------|------------|-------------------|-------------------|-------|------------|--------------|
| 01 × 152921  | s1 s2 s3   | 4 + 24 + 10 = 38  | 4 + 56 + 10 = 70  | 1100  | −1062      | −1030        |
| 01 × 152922  | s8         | 12                | 30                |    0  |    12      |    30        |
| 01 × 152923  | s10        | 320               | 960               |  800  |  −480      |   160        |
| 07 × 152921  | —          | 0                 | 0                 |  300  |  −300      |  −300        |
| 07 × 152923  | s5 s9      | 6 + 12 = 18       | 6 + 12 = 18       |    0  |    18      |    18        |
| league total | 7 records  | 388               | 1078              | 2200  |            |              |

In 01 × 152921, s1 and s2 were served by A in the same banner (local: 28 h by 服务量, 60 h by
duration) and s3 by D in 152923 (elsewhere: 10 h). Over capacity by 服务量: 07 × 152923 (18),
01 × 152922 (12); by duration also 01 × 152923 (160), which is only the nights of s10.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard import census
from dashboard import layout as L
from dashboard.load import LoadLines

REGIONS = pd.DataFrame({
    "code": ["152921", "152922", "152923", "Z01"],
    "name_zh": ["阿拉善左旗", "阿拉善右旗", "额济纳旗", "阿拉善高新技术产业开发区（阿拉善经济开发区）"],
    "name_en": ["Alxa Left Banner", "Alxa Right Banner", "Ejin Banner", "Alxa Economic Development Zone"],
    "kind": ["banner", "banner", "banner", "zone"],
    "within": ["152921", "152922", "152923", "152921"],
})

INSTRUMENTS = [
    # id, asset, class, region, purpose, share, status, exempt, value, hours, holder
    (1, "A", "010501", "152921", "通用", "外部共享", "正常", "", 600_000, 1000, "甲单位"),
    (2, "B", "010502", "Z01", "通用", "外部共享", "正常", "", 400_000, 300, "乙单位"),
    (3, "C", "010502", "152921", "通用", "内部共享", "正常", "", 200_000, 500, "甲单位"),
    (4, "D", "010503", "152923", "通用", "外部共享", "正常", "", 1_000_000, 1300, "丙单位"),
    (5, "E", "020101", "152923", "专用", "外部共享", "待报废", "", 300_000, 0, "丙单位"),
    (6, "H", "010504", "152923", "通用", "外部共享", "正常", "国防", 500_000, 400, "丁单位"),
    (7, "I", "010506", "152923", "通用", "内部共享", "正常", "", 100_000, 700, "丙单位"),
    (8, "G", "070401", "152921", "专用", "外部共享", "正常", "", 800_000, 900, "甲单位"),
]

SERVICES = [
    # id, instrument, user type, client region, start, end, quantity, amount, client
    (1, 1, "外部用户", "152921", "2025-01-10 10:00", "2025-01-10 14:00", 4, 1000, "客户一"),
    (2, 1, "外部用户", "Z01", "2025-03-01 09:00", "2025-03-03 17:00", 24, 5000, "客户二"),
    (3, 4, "外部用户", "152921", "2025-04-01 08:00", "2025-04-01 18:00", 10, 2000, "客户一"),
    (4, 4, "内部用户", "152923", "2025-04-02 08:00", "2025-04-03 04:00", 20, 0, "丙单位"),
    (5, 8, "外部用户", "152923", "2025-05-01 08:00", "2025-05-01 14:00", 6, 600, "客户三"),
    (6, 1, "外部用户", "640100", "2025-05-02 08:00", "2025-05-02 16:00", 8, 800, "盟外客户"),
    (7, 4, "外部用户", "", "2025-05-03 08:00", "2025-05-03 10:00", 2, 100, "不明客户"),
    (8, 2, "外部用户", "152922", "2025-05-10 08:00", "2025-05-11 14:00", 12, 3000, "客户四"),
    (9, 8, "外部用户", "152923", "2025-06-01 08:00", "2025-06-01 20:00", 12, 1200, "客户五"),
    (10, 1, "外部用户", "152923", "2025-07-01 08:00", "2025-08-10 08:00", 320, 20000, "客户三"),
]


def instruments_frame() -> pd.DataFrame:
    rows = [
        {"id": i, "inner_id": asset, "name_zh": f"仪器{asset}", "name_en": "", "class_code": cls, "region_code": region,
         "purpose": purpose, "share_mode": share, "status": status, "exempt_reason": exempt, "original_value": value,
         "unit_name": holder, "unit_name_en": "", "start_date": pd.Timestamp("2018-05-01")}
        for i, asset, cls, region, purpose, share, status, exempt, value, _, holder in INSTRUMENTS
    ]
    return pd.DataFrame(rows)


def annual_frame() -> pd.DataFrame:
    usage = pd.DataFrame({
        "instrument_id": [row[0] for row in INSTRUMENTS],
        "year": 2025,
        "effective_hours": [float(row[9]) for row in INSTRUMENTS],
        "external_hours": 0.0,
    })
    return census.annual_frame(instruments_frame(), usage, 2025)


def services_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": i, "instrument_id": inst, "user_type": user, "client_region_code": client,
         "start_time": pd.Timestamp(start), "end_time": pd.Timestamp(end), "service_quantity": float(qty),
         "service_amount_cny": float(amount), "applicant_unit": who, "client_kind": "其他"}
        for i, inst, user, client, start, end, qty, amount, who in SERVICES
    ])


@pytest.fixture
def annual():
    return annual_frame()


@pytest.fixture
def services():
    return services_frame()


def cell(matrix: pd.DataFrame, cls: str, region: str) -> pd.Series:
    rows = matrix[(matrix["class_code"] == cls) & (matrix["region_code"] == region)]
    assert len(rows) == 1, (cls, region)
    return rows.iloc[0]


# ---- keys ------------------------------------------------------------------------------------


def test_region_keys_roll_zones_up_and_drop_outside_codes():
    codes = pd.Series(["152921", "Z01", "152923", "640100", "", None])
    rolled = L.region_key(codes, REGIONS)
    assert rolled.tolist()[:3] == ["152921", "152921", "152923"]
    assert rolled.iloc[3:].isna().all()
    separate = L.region_key(codes, REGIONS, zones=True)
    assert separate.tolist()[:3] == ["152921", "Z01", "152923"]
    assert separate.iloc[3:].isna().all()


def test_region_order_puts_each_zone_after_its_banner():
    assert L.region_order(REGIONS) == ["152921", "152922", "152923"]
    assert L.region_order(REGIONS, zones=True) == ["152921", "Z01", "152922", "152923"]


def test_class_key_levels():
    codes = pd.Series(["010501", "070401"])
    assert L.class_key(codes, 2).tolist() == ["01", "07"]
    assert L.class_key(codes, 4).tolist() == ["0105", "0704"]
    assert L.class_key(codes, 0).tolist() == [L.ALL_CLASSES, L.ALL_CLASSES]


# ---- instruments -----------------------------------------------------------------------------


def test_spare_capacity_only_on_open_in_service_instruments(annual):
    load = L.instrument_load(annual).set_index("inner_id")
    # max(0, 1200 − hours) for in-service 外部共享; C and I are internal, E is scrapped, D is over the line.
    assert load["spare_hours"].to_dict() == {"A": 200.0, "B": 900.0, "C": 0.0, "D": 0.0, "E": 0.0, "H": 800.0,
                                             "I": 0.0, "G": 300.0}
    assert load["load"].to_dict() == {"A": "normal", "B": "idle", "C": "idle", "D": "saturated", "E": "idle",
                                      "H": "idle", "I": "idle", "G": "normal"}
    assert load.loc[["A", "B", "D", "H", "G"], "open"].all()
    assert not load.loc[["C", "E", "I"], "open"].any()


def test_spare_capacity_follows_the_saturation_line(annual):
    load = L.instrument_load(annual, LoadLines(low_use_hours=600, saturation_hours=1000)).set_index("inner_id")
    assert load.loc[["A", "B", "H", "G"], "spare_hours"].tolist() == [0.0, 700.0, 600.0, 100.0]


# ---- demand ----------------------------------------------------------------------------------


def test_the_default_basis_is_the_service_quantity():
    assert L.BASES == ("quantity", "duration")
    assert L.DEFAULT_BASIS == "quantity"


def test_service_hours_by_quantity_and_by_duration(services):
    # The default: 服务量 as reported.
    assert L.service_hours(services).tolist() == [4.0, 24.0, 10.0, 20.0, 6.0, 8.0, 2.0, 12.0, 12.0, 320.0]
    assert L.service_hours(services, "quantity").tolist() == [4.0, 24.0, 10.0, 20.0, 6.0, 8.0, 2.0, 12.0, 12.0, 320.0]
    # s2: 1 Mar 09:00 → 3 Mar 17:00 = 56 h; s8: 10 May 08:00 → 11 May 14:00 = 30 h; s10: 40 days = 960 h.
    assert L.service_hours(services, "duration").tolist() == [4.0, 56.0, 10.0, 20.0, 6.0, 8.0, 2.0, 30.0, 12.0, 960.0]
    backwards = services.iloc[:1].assign(end_time=pd.Timestamp("2025-01-10 09:00"))
    assert L.service_hours(backwards, "duration").tolist() == [0.0]
    blank_or_negative = services.iloc[:3].assign(service_quantity=[float("nan"), -3.0, 7.5])
    assert L.service_hours(blank_or_negative).tolist() == [0.0, 0.0, 7.5]
    with pytest.raises(ValueError):
        L.service_hours(services, "samples")


def test_external_demand_keeps_outside_users_only(annual, services):
    demand = L.external_demand(services, annual, REGIONS)
    assert 4 not in set(demand["service_id"])  # the internal record
    by_id = demand.set_index("service_id")
    assert by_id.loc[2, "client_region"] == "152921"  # Z01 rolled up
    assert by_id.loc[2, "serving_region"] == "152921"
    assert by_id.loc[8, "serving_region"] == "152921"  # B stands in Z01
    assert by_id.loc[6, "client_scope"] == "outside" and pd.isna(by_id.loc[6, "client_region"])
    assert by_id.loc[7, "client_scope"] == "unknown"
    assert by_id.loc[10, "class_code"] == "01"
    assert (by_id.loc[10, "hours"], by_id.loc[2, "hours"]) == (320.0, 24.0)  # 服务量 by default
    by_duration = L.external_demand(services, annual, REGIONS, basis="duration").set_index("service_id")
    assert (by_duration.loc[10, "hours"], by_duration.loc[2, "hours"]) == (960.0, 56.0)
    # A record of an instrument that is not in the year's register is dropped.
    stray = pd.concat([services, services.iloc[:1].assign(id=99, instrument_id=99)], ignore_index=True)
    assert 99 not in set(L.external_demand(stray, annual, REGIONS)["service_id"])


def test_demand_scope_totals(annual, services):
    totals = L.demand_scope_totals(L.external_demand(services, annual, REGIONS)).set_index("client_scope")
    # league: s1 s2 s3 s5 s8 s9 s10 = 4+24+10+6+12+12+320 h; 1000+5000+2000+600+3000+1200+20000 CNY
    assert totals.loc["league"].tolist() == [7, 388.0, 32800.0]
    assert totals.loc["outside"].tolist() == [1, 8.0, 800.0]
    assert totals.loc["unknown"].tolist() == [1, 2.0, 100.0]
    by_duration = L.demand_scope_totals(L.external_demand(services, annual, REGIONS, basis="duration"))
    # league: 4+56+10+6+30+12+960 h
    assert by_duration.set_index("client_scope").loc["league"].tolist() == [7, 1078.0, 32800.0]


# ---- the matrix ------------------------------------------------------------------------------


def test_matrix_grid_is_every_class_by_every_banner(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS)
    assert list(matrix.columns) == L.MATRIX_COLUMNS
    assert list(zip(matrix["class_code"], matrix["region_code"])) == [
        (c, r) for c in ("01", "02", "07") for r in ("152921", "152922", "152923")]


def test_matrix_cell_with_a_zone_rolled_up(annual, services):
    left = cell(L.class_region_matrix(annual, services, REGIONS), "01", "152921")
    # A, B (in Z01), C
    assert left["instruments"] == 3 and left["in_service"] == 3
    assert left["value_cny"] == 1_200_000
    assert left["effective_hours"] == 1800
    assert left["mean_utilisation"] == pytest.approx((1000 / 1400 + 300 / 1400 + 500 / 1400) / 3)
    assert (left["idle"], left["saturated"], left["open_instruments"]) == (2, 0, 2)
    assert left["spare_hours"] == 200 + 900
    # s1 (4 h), s2 (24 h, client in Z01), s3 (10 h, served by D in 152923)
    assert (left["demand_services"], left["demand_hours"], left["demand_amount_cny"]) == (3, 38.0, 8000.0)
    assert (left["demand_local_hours"], left["demand_elsewhere_hours"]) == (28.0, 10.0)
    assert left["gap_hours"] == 38 - 1100


def test_matrix_cell_over_capacity_only_by_duration(annual, services):
    ejin = cell(L.class_region_matrix(annual, services, REGIONS), "01", "152923")
    # D (saturated), H (idle, exempt, but declared 外部共享), I (idle, internal)
    assert (ejin["instruments"], ejin["value_cny"], ejin["effective_hours"]) == (3, 1_600_000, 2400)
    assert ejin["mean_utilisation"] == pytest.approx(2400 / 4200)
    assert (ejin["idle"], ejin["saturated"], ejin["open_instruments"], ejin["spare_hours"]) == (2, 1, 2, 800.0)
    # s10: 320 h of 服务量, served by A in 152921 → within H's 800 spare hours.
    assert (ejin["demand_services"], ejin["demand_hours"], ejin["demand_local_hours"]) == (1, 320.0, 0.0)
    assert ejin["gap_hours"] == -480.0
    # By duration s10 spans 40 days = 960 h, 160 h more than the spare capacity.
    by_duration = cell(L.class_region_matrix(annual, services, REGIONS, basis="duration"), "01", "152923")
    assert (by_duration["spare_hours"], by_duration["demand_hours"], by_duration["demand_local_hours"]) == (800.0, 960.0, 0.0)
    assert (by_duration["demand_elsewhere_hours"], by_duration["gap_hours"]) == (960.0, 160.0)


def test_matrix_cells_without_instruments_or_in_service_ones(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS)
    right = cell(matrix, "01", "152922")
    assert (right["instruments"], right["spare_hours"], right["demand_hours"], right["gap_hours"]) == (0, 0.0, 12.0, 12.0)
    assert math.isnan(right["mean_utilisation"])
    scrapped = cell(matrix, "02", "152923")  # E only, awaiting scrapping
    assert (scrapped["instruments"], scrapped["value_cny"], scrapped["in_service"]) == (1, 300_000, 0)
    assert math.isnan(scrapped["mean_utilisation"]) and scrapped["idle"] == 0
    radar = cell(matrix, "07", "152921")
    assert radar["mean_utilisation"] == pytest.approx(900 / 800)
    assert (radar["spare_hours"], radar["gap_hours"]) == (300.0, -300.0)
    wanted = cell(matrix, "07", "152923")
    assert (wanted["demand_services"], wanted["demand_hours"], wanted["demand_amount_cny"]) == (2, 18.0, 1800.0)
    empty = cell(matrix, "02", "152922")
    assert (empty["instruments"], empty["demand_services"], empty["gap_hours"]) == (0, 0, 0.0)


def test_matrix_totals_match_the_inputs(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS)
    assert matrix["instruments"].sum() == 8
    assert matrix["value_cny"].sum() == 3_900_000
    assert matrix["spare_hours"].sum() == 200 + 900 + 800 + 300
    assert matrix["demand_hours"].sum() == 388  # league clients only: 4+24+10+6+12+12+320
    assert matrix["demand_amount_cny"].sum() == 32_800
    by_duration = L.class_region_matrix(annual, services, REGIONS, basis="duration")
    assert by_duration["demand_hours"].sum() == 1078  # 4+56+10+6+30+12+960
    assert (by_duration["spare_hours"].sum(), by_duration["demand_services"].sum()) == (2200, 7)


def test_matrix_with_zones_separately(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS, zones=True)
    assert list(dict.fromkeys(matrix["region_code"])) == ["152921", "Z01", "152922", "152923"]
    proper = cell(matrix, "01", "152921")  # A and C only
    assert (proper["instruments"], proper["effective_hours"], proper["spare_hours"]) == (2, 1500, 200.0)
    assert proper["mean_utilisation"] == pytest.approx(1500 / 2800)
    assert (proper["demand_hours"], proper["demand_local_hours"], proper["gap_hours"]) == (14.0, 4.0, -186.0)
    zone = cell(matrix, "01", "Z01")  # B; s2's client sits in Z01 but A (in 152921) served it
    assert (zone["instruments"], zone["idle"], zone["spare_hours"]) == (1, 1, 900.0)
    assert (zone["demand_hours"], zone["demand_local_hours"], zone["gap_hours"]) == (24.0, 0.0, -876.0)
    zone = cell(L.class_region_matrix(annual, services, REGIONS, zones=True, basis="duration"), "01", "Z01")
    assert (zone["demand_hours"], zone["demand_local_hours"], zone["gap_hours"]) == (56.0, 0.0, -844.0)


def test_matrix_by_middle_class(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS, level=4)
    assert list(dict.fromkeys(matrix["class_code"])) == ["0105", "0201", "0704"]
    assert cell(matrix, "0105", "152923")["gap_hours"] == 320 - 800  # every 01 instrument is in 0105
    assert cell(matrix, "0704", "152923")["demand_hours"] == 18.0


def test_matrix_of_all_classes_together(annual, services):
    matrix = L.class_region_matrix(annual, services, REGIONS, level=0)
    ejin = cell(matrix, L.ALL_CLASSES, "152923")
    # s5 + s9 + s10 = 6 + 12 + 320 h
    assert (ejin["instruments"], ejin["in_service"], ejin["spare_hours"], ejin["demand_hours"]) == (4, 3, 800.0, 338.0)


def test_matrix_follows_the_lines_and_the_basis(annual, services):
    edited = L.class_region_matrix(annual, services, REGIONS, LoadLines(low_use_hours=600, saturation_hours=1000))
    ejin = cell(edited, "01", "152923")
    # H: 1000 − 400 = 600 spare; s10's 320 h of 服务量 against it.
    assert (ejin["idle"], ejin["saturated"], ejin["spare_hours"], ejin["gap_hours"]) == (1, 1, 600.0, -280.0)
    left = cell(edited, "01", "152921")
    assert (left["idle"], left["spare_hours"]) == (2, 700.0)
    by_duration = L.class_region_matrix(annual, services, REGIONS, basis="duration")
    assert cell(by_duration, "01", "152921")["demand_hours"] == 4 + 56 + 10
    assert cell(by_duration, "01", "152923")["gap_hours"] == 960 - 800
    both = L.class_region_matrix(annual, services, REGIONS, LoadLines(low_use_hours=600, saturation_hours=1000),
                                 basis="duration")
    assert cell(both, "01", "152923")["gap_hours"] == 960 - 600


def test_matrix_without_services(annual):
    matrix = L.class_region_matrix(annual, services_frame().iloc[0:0], REGIONS)
    assert (matrix["demand_hours"] == 0).all() and (matrix["demand_services"] == 0).all()
    assert (matrix["gap_hours"] == -matrix["spare_hours"]).all()
    assert L.demand_over_capacity(matrix).empty and L.demand_without_instruments(matrix).empty


# ---- findings --------------------------------------------------------------------------------


def test_demand_over_capacity_lists_cells_largest_gap_first(annual, services):
    over = L.demand_over_capacity(L.class_region_matrix(annual, services, REGIONS))
    assert list(zip(over["class_code"], over["region_code"], over["gap_hours"])) == [
        ("07", "152923", 18.0), ("01", "152922", 12.0)]
    by_duration = L.demand_over_capacity(L.class_region_matrix(annual, services, REGIONS, basis="duration"))
    assert list(zip(by_duration["class_code"], by_duration["region_code"], by_duration["gap_hours"])) == [
        ("01", "152923", 160.0), ("01", "152922", 30.0), ("07", "152923", 18.0)]


def test_demand_without_instruments(annual, services):
    uncovered = L.demand_without_instruments(L.class_region_matrix(annual, services, REGIONS))
    assert list(zip(uncovered["class_code"], uncovered["region_code"], uncovered["demand_hours"])) == [
        ("07", "152923", 18.0), ("01", "152922", 12.0)]
    by_duration = L.demand_without_instruments(L.class_region_matrix(annual, services, REGIONS, basis="duration"))
    assert list(zip(by_duration["class_code"], by_duration["region_code"], by_duration["demand_hours"])) == [
        ("01", "152922", 30.0), ("07", "152923", 18.0)]


def test_idle_side_by_side_groups_the_same_middle_class_in_one_banner(annual):
    idle = L.idle_side_by_side(annual, REGIONS)
    # B (Z01 → 152921, 300 h) and C (152921, 500 h); in 152923 only I qualifies (H is exempt).
    assert idle["inner_id"].tolist() == ["B", "C"]
    assert set(idle["class_code"]) == {"0105"} and set(idle["banner_code"]) == {"152921"}
    assert idle["region_code"].tolist() == ["Z01", "152921"]
    assert idle["unit_name"].tolist() == ["乙单位", "甲单位"]
    assert idle["group_size"].tolist() == [2, 2]
    assert idle["group_hours"].tolist() == [800.0, 800.0]
    assert idle["group_value_cny"].tolist() == [600_000.0, 600_000.0]
    assert idle["utilisation"].tolist() == pytest.approx([300 / 1400, 500 / 1400])


def test_idle_side_by_side_with_other_thresholds(annual):
    singles = L.idle_side_by_side(annual, REGIONS, min_count=1)
    assert singles["inner_id"].tolist() == ["B", "C", "I"]
    assert singles["group_size"].tolist() == [2, 2, 1]
    # At a 400 h line only B is idle: no group left.
    assert L.idle_side_by_side(annual, REGIONS, LoadLines(low_use_hours=400)).empty


# ---- drill-down ------------------------------------------------------------------------------


def test_cell_instruments(annual):
    assert L.cell_instruments(annual, REGIONS, "01", "152921")["inner_id"].tolist() == ["A", "C", "B"]
    assert L.cell_instruments(annual, REGIONS, "01", "Z01", zones=True)["inner_id"].tolist() == ["B"]
    assert L.cell_instruments(annual, REGIONS, "01", "Z01")["inner_id"].tolist() == []
    everything = L.cell_instruments(annual, REGIONS, L.ALL_CLASSES, "152923", level=0)
    assert everything["inner_id"].tolist() == ["D", "I", "H", "E"]
    assert everything["spare_hours"].tolist() == [0.0, 0.0, 800.0, 0.0]


def test_cell_demand_splits_by_where_it_was_served(annual, services):
    summary = L.cell_demand(L.external_demand(services, annual, REGIONS), "01", "152921")
    # s1 4 + s2 24 (A, 152921) and s3 10 (D, 152923); clients 客户一 (s1, s3) and 客户二 (s2)
    assert (summary.services, summary.hours, summary.amount_cny, summary.clients) == (3, 38.0, 8000.0, 2)
    split = summary.by_serving_region
    assert split["serving_region"].tolist() == ["152921", "152923"]
    assert split["services"].tolist() == [2, 1]
    assert split["hours"].tolist() == [28.0, 10.0]
    assert split["amount_cny"].tolist() == [6000.0, 2000.0]
    assert split["clients"].tolist() == [2, 1]
    by_duration = L.cell_demand(L.external_demand(services, annual, REGIONS, basis="duration"), "01", "152921")
    assert (by_duration.services, by_duration.hours, by_duration.clients) == (3, 70.0, 2)
    assert by_duration.by_serving_region["hours"].tolist() == [60.0, 10.0]  # s1 4 + s2 56; s3 10
    none = L.cell_demand(L.external_demand(services, annual, REGIONS), "02", "152921")
    assert (none.services, none.hours, none.clients) == (0, 0.0, 0)
    assert none.by_serving_region.empty
