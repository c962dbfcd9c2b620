"""Hand-made store contents for tests: small, explicit, with numbers a person can check."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models import tables as T
from models.db import init_store, make_engine


def add_unit(engine: Engine, name: str, *, unit_type: str = "科研院所", region_code: str = "152921", **kw) -> int:
    with Session(engine) as s:
        unit = T.Unit(name=name, unit_type=unit_type, region_code=region_code, **kw)
        s.add(unit)
        s.commit()
        return unit.id


def add_instrument(
    engine: Engine,
    unit_id: int,
    inner_id: str,
    name_zh: str,
    *,
    class_code: str = "010501",
    original_value: float = 500_000,
    purpose: str = "通用",
    share_mode: str = "外部共享",
    region_code: str = "152921",
    **kw,
) -> int:
    kw.setdefault("start_date", date(2018, 5, 1))
    kw.setdefault("funding", "地方财政资金")
    with Session(engine) as s:
        inst = T.Instrument(
            unit_id=unit_id,
            inner_id=inner_id,
            name_zh=name_zh,
            class_code=class_code,
            original_value=original_value,
            purpose=purpose,
            share_mode=share_mode,
            region_code=region_code,
            **kw,
        )
        s.add(inst)
        s.commit()
        return inst.id


def add_usage(engine: Engine, instrument_id: int, year: int, monthly_hours: list[float], external: list[float] | None = None) -> None:
    """One usage row per month given (January first)."""
    external = external or [0.0] * len(monthly_hours)
    with Session(engine) as s:
        for m, (h, x) in enumerate(zip(monthly_hours, external), start=1):
            s.add(T.UsageMonthly(instrument_id=instrument_id, year=year, month=m, effective_hours=h, external_hours=x, samples=int(h)))
        s.commit()


def add_service(engine: Engine, instrument_id: int, start: datetime, applicant_unit: str, amount: float, **kw) -> None:
    kw.setdefault("end_time", start.replace(hour=min(start.hour + 4, 23)))
    with Session(engine) as s:
        s.add(T.ServiceRecord(instrument_id=instrument_id, start_time=start, applicant_unit=applicant_unit, service_amount_cny=amount, **kw))
        s.commit()


def small_registry(engine: Engine) -> dict[str, int]:
    """Two units, three instruments, 2024–2025 usage; totals are worked out in the docstring.

    - 阿拉善盟测试研究院 (科研院所, 152921): HPLC-1 (通用, 600,000 CNY, 外部共享) 100 h/month in 2025
      (1200 h, external 40 h/month = 480 h); GC-1 (通用, 80,000 CNY, 内部共享) 20 h/month (240 h).
    - 额济纳旗气象站 (其他, 152923): RADAR-1 (专用, 2,500,000 CNY, 不共享) 50 h/month (600 h).
    - 2024: HPLC-1 only, 50 h/month (600 h).
    """
    u1 = add_unit(engine, "阿拉善盟测试研究院", unit_type="科研院所", region_code="152921", lat=38.84, lon=105.67)
    u2 = add_unit(engine, "额济纳旗气象站", unit_type="其他", region_code="152923", lat=41.96, lon=101.07)
    hplc = add_instrument(engine, u1, "HPLC-1", "高效液相色谱仪", class_code="010501", original_value=600_000,
                          manufacturer="安捷伦", model="1260 Infinity II")
    gc = add_instrument(engine, u1, "GC-1", "气相色谱仪", class_code="010502", original_value=80_000,
                        share_mode="内部共享", funding="单位自有资金")
    radar = add_instrument(engine, u2, "RADAR-1", "多普勒天气雷达", class_code="070401", original_value=2_500_000,
                           purpose="专用", share_mode="不共享", region_code="152923", funding="中央财政资金")
    add_usage(engine, hplc, 2025, [100.0] * 12, [40.0] * 12)
    add_usage(engine, gc, 2025, [20.0] * 12)
    add_usage(engine, radar, 2025, [50.0] * 12)
    add_usage(engine, hplc, 2024, [50.0] * 12)
    return {"unit1": u1, "unit2": u2, "hplc": hplc, "gc": gc, "radar": radar}


def filled_store(db_url: str, fill=None, **kw):
    """Create the store at `db_url`, fill it with `fill(engine, **kw)` (default: small_registry)
    and close it; returns what `fill` returned. For page tests, whose app opens its own engine."""
    eng = make_engine(db_url)
    init_store(eng)
    try:
        return (fill or small_registry)(eng, **kw)
    finally:
        eng.dispose()
