"""A hand-made registry for the service finder tests (tests/test_finder*.py, test_page_finder.py).

Units (region, coordinates):
- U1 阿拉善盟检验检测中心 (检验检测, 152921, 38.84 N 105.67 E), contact 张工 / 0483-8000001;
- U2 额济纳旗生态环境监测站 (其他, 152923, 41.96 N 101.07 E);
- U3 乌斯太新材料有限公司 (企业, zone Z01 in 阿拉善左旗, no coordinates: its zone's seat 39.42 N 106.71 E).

Offered (外部共享, in service, not exempt):
- ICPMS-1 电感耦合等离子体质谱仪 (U2, 600 元/机时), service content 重金属及痕量元素检测;
- AAS-1 原子吸收分光光度计 (U1, 150 元/机时), functions 金属元素定量分析; no contact of its own;
- HPLC-1 高效液相色谱仪 (U1, 200 元/机时), service 药材有效成分含量测定;
- UPLC-1 超高效液相色谱仪 (U3, 280 元/机时), service 苁蓉苯乙醇苷类等活性成分快速分析;
- UTM-1 电子万能试验机 (U3, 190 元/机时): no word 拉伸 anywhere — found for 拉伸试验 only through
  the synonym 拉伸 → 万能试验机;
- GC-1 气相色谱仪 (U1, fee 按检测项目收费: a charge but no hourly price);
- SEM-1 扫描电子显微镜 (U2, status 偶有故障 — still offered, fee standard blank: no voucher).
Never offered: HPLC-CLOSED (不共享), HPLC-INTERNAL (内部共享), AAS-EXEMPT (外部共享 but exempt
国家安全), ICPMS-SCRAP (外部共享, 待报废), AAS-REPAIR (外部共享, 待修) — all named like the
offered ones, so a text match alone would find them.

Usage 2025 (effective hours): HPLC-1 110 h × 12 = 1320 h (≥ 1200 h: busy); AAS-1 50 × 12 = 600 h
(available); UPLC-1, UTM-1, GC-1, SEM-1 20 × 12 = 240 h (available); ICPMS-1 no report (unknown).
Service records: AAS-1 rated 非常满意, 非常满意, 一般 → (5 + 5 + 3) / 3 = 4.333…, one of them paid
partly with a voucher; HPLC-1 rated 不满意 → 2.0; GC-1 and SEM-1 one unrated external record each
(so no open instrument of U1 or U2 that reported use is "nominally open"); the others none.
Submissions 2025: U1 and U2 reported every month on time; U3 never. Under the default sanction
rules on the 2025 evaluation all three units of this tiny league score below 60 (poor_grade);
only U3 is also sanctioned for not_reporting (and nominally_open: UPLC-1 and UTM-1 served nobody).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import tables as T
from models.db import bump_revision
from tests.factories import add_instrument, add_service, add_unit, add_usage

OFFERED = ("ICPMS-1", "AAS-1", "HPLC-1", "UPLC-1", "UTM-1", "GC-1", "SEM-1")
NEVER = ("HPLC-CLOSED", "HPLC-INTERNAL", "AAS-EXEMPT", "ICPMS-SCRAP", "AAS-REPAIR")


def finder_registry(engine: Engine) -> dict[str, int]:
    u1 = add_unit(engine, "阿拉善盟检验检测中心", unit_type="检验检测", region_code="152921", lat=38.84, lon=105.67,
                  name_en="Alxa Inspection and Testing Centre", contact="张工", phone="0483-8000001",
                  email="lab@example.com")
    u2 = add_unit(engine, "额济纳旗生态环境监测站", unit_type="其他", region_code="152923", lat=41.96, lon=101.07,
                  contact="巴特尔", phone="0483-6000002")
    u3 = add_unit(engine, "乌斯太新材料有限公司", unit_type="企业", region_code="Z01", contact="李经理",
                  phone="0483-7000003", is_sme=True)
    ids = {"u1": u1, "u2": u2, "u3": u3}

    def inst(key, unit, name, code, region, **kw):
        kw.setdefault("contact", "")
        ids[key] = add_instrument(engine, unit, key, name, class_code=code, region_code=region, **kw)

    inst("ICPMS-1", u2, "电感耦合等离子体质谱仪", "010203", "152923", functions="痕量及超痕量元素分析",
         technical_specs="质量范围2–260 amu；检出限≤1 ppt", service_content="重金属及痕量元素检测",
         fee_standard="参考收费600元/机时（不含耗材）。", contact="王工", phone="13900000001")
    inst("AAS-1", u1, "原子吸收分光光度计", "010401", "152921", functions="金属元素定量分析（火焰/石墨炉）",
         technical_specs="波长范围185–900 nm", service_content="水、土壤、食品中金属元素测定",
         fee_standard="参考收费150元/机时。")
    inst("HPLC-1", u1, "高效液相色谱仪", "010502", "152921", functions="有机化合物分离及含量测定",
         technical_specs="DAD检测器", service_content="药材有效成分含量测定", fee_standard="参考收费200元/机时。",
         model="1260 Infinity II", name_en="High performance liquid chromatograph", contact="赵工",
         phone="13900000003", email="hplc@example.com", booking_url="https://booking.example.com/hplc-1")
    inst("UPLC-1", u3, "超高效液相色谱仪", "010504", "Z01", functions="快速高分离度液相分析",
         service_content="苁蓉苯乙醇苷类等活性成分快速分析", fee_standard="参考收费280元/机时。")
    inst("UTM-1", u3, "电子万能试验机", "020101", "Z01", functions="材料力学性能测试",
         technical_specs="最大试验力100 kN", service_content="钢材、塑料力学性能检测", fee_standard="参考收费190元/机时。")
    inst("GC-1", u1, "气相色谱仪", "010501", "152921", functions="挥发性有机物分析", fee_standard="按检测项目收费。")
    inst("SEM-1", u2, "扫描电子显微镜", "010101", "152923", functions="样品表面形貌观察", status="偶有故障",
         fee_standard="")
    inst("HPLC-CLOSED", u1, "高效液相色谱仪", "010502", "152921", share_mode="不共享",
         fee_standard="参考收费100元/机时。")
    inst("HPLC-INTERNAL", u2, "高效液相色谱仪", "010502", "152923", share_mode="内部共享")
    inst("AAS-EXEMPT", u2, "原子吸收分光光度计", "010401", "152923", exempt_reason="国家安全",
         service_content="重金属检测")
    inst("ICPMS-SCRAP", u1, "电感耦合等离子体质谱仪", "010203", "152921", status="待报废",
         service_content="重金属检测", start_date=date(2008, 1, 1))
    inst("AAS-REPAIR", u3, "原子吸收分光光度计", "010401", "Z01", status="待修", service_content="重金属检测")

    add_usage(engine, ids["HPLC-1"], 2025, [110.0] * 12, [40.0] * 12)
    add_usage(engine, ids["AAS-1"], 2025, [50.0] * 12, [20.0] * 12)
    for key in ("UPLC-1", "UTM-1", "GC-1", "SEM-1"):
        add_usage(engine, ids[key], 2025, [20.0] * 12, [10.0] * 12)
    for day, rating, voucher in ((3, "非常满意", 0.0), (4, "非常满意", 300.0), (5, "一般", 0.0)):
        add_service(engine, ids["AAS-1"], datetime(2025, 3, day, 9), "阿拉善左旗某食品公司", 600.0, rating=rating,
                    voucher_amount_cny=voucher, client_kind="本地中小企业", service_content="土壤铅镉测定")
    add_service(engine, ids["HPLC-1"], datetime(2025, 4, 1, 9), "某研究所", 800.0, rating="不满意")
    for key in ("GC-1", "SEM-1"):  # every open instrument of U1 and U2 that reported use served outsiders
        add_service(engine, ids[key], datetime(2025, 5, 6, 9), "某研究所", 400.0)

    with Session(engine) as s:  # monthly usage reports of 2025: U1 and U2 on time, U3 none
        for unit in (u1, u2):
            for month in range(1, 13):
                due = date(2026, 1, 10) if month == 12 else date(2025, month + 1, 10)
                s.add(T.Submission(unit_id=unit, kind="usage", year=2025, month=month, due_date=due,
                                   submitted_at=datetime(due.year, due.month, 1, 2, tzinfo=timezone.utc)))
        bump_revision(s)
        s.commit()
    return ids
