"""models.queries.purchase_requests on every configured backend, and the flag of the purchase
review fed from it (dashboard.sanctions.flag_purchase_requests)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlmodel import Session

from dashboard import sanctions as S
from models import queries as q
from models import tables as T
from tests.factories import add_unit


def add_request(engine, request_no: str, unit_id: int, submitted: date, status: str, price: float,
                name: str = "气相色谱仪") -> None:
    with Session(engine) as s:
        s.add(T.PurchaseRequest(request_no=request_no, applicant_unit_id=unit_id, instrument_name=name,
                                class_code="010501", quoted_price=price, region_code="152921",
                                submitted_date=submitted, status=status))
        s.commit()


def test_purchase_requests_with_applicant_names_oldest_first(engine):
    assert q.purchase_requests(engine).empty
    a = add_unit(engine, "甲研究院", name_en="Institute A")
    b = add_unit(engine, "乙检测中心")
    add_request(engine, "ALS-CG-2026-0002", a, date(2026, 3, 2), "submitted", 480_000.0)
    add_request(engine, "ALS-CG-2025-0001", b, date(2025, 11, 20), "decided", 1_250_000.5, name="液相色谱仪")
    add_request(engine, "ALS-CG-2026-0003", a, date(2026, 3, 2), "checked", 90_000.0)
    df = q.purchase_requests(engine)
    assert list(df["request_no"]) == ["ALS-CG-2025-0001", "ALS-CG-2026-0002", "ALS-CG-2026-0003"]
    for col in ("id", "request_no", "applicant_unit_id", "instrument_name", "class_code", "quoted_price",
                "submitted_date", "status", "applicant_name", "applicant_name_en"):
        assert col in df.columns
    assert list(df["applicant_name"]) == ["乙检测中心", "甲研究院", "甲研究院"]
    assert list(df["applicant_name_en"]) == ["", "Institute A", "Institute A"]
    assert list(df["quoted_price"]) == [1_250_000.5, 480_000.0, 90_000.0]
    assert df["quoted_price"].dtype == float
    assert pd.api.types.is_datetime64_any_dtype(df["submitted_date"])
    assert list(df["submitted_date"].dt.date) == [date(2025, 11, 20), date(2026, 3, 2), date(2026, 3, 2)]
    assert list(df["status"]) == ["decided", "submitted", "checked"]
    assert list(df["instrument_name"]) == ["液相色谱仪", "气相色谱仪", "气相色谱仪"]

    # unit a restricted in 2026 on the 2025 evaluation: both its 2026 requests are flagged; b's is not
    restricted = pd.DataFrame({"unit_id": [a], "until_year": [2026], "rules": [("nominally_open",)],
                               "years": [1], "from_year": [2026]})
    flagged = S.flag_purchase_requests(df, restricted)
    assert list(flagged["request_no"]) == ["ALS-CG-2026-0002", "ALS-CG-2026-0003"]
    assert list(flagged["flag"]) == ["in_window", "in_window"]
