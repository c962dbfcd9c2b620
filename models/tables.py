"""SQLModel table classes: the store's schema.

Field names of instruments and service records follow the national record layout
(`data/reference/nrii_fields.csv`); enumerated values are stored as the national Chinese
strings (e.g. share_mode "外部共享") so that imports and exports round-trip unchanged.
Audit and publication timestamps are aware UTC datetimes; service times are the naive local
times of the national record. Money is stored in CNY (yuan); the national layout reports instrument value in 万元 and
the importer/exporter convert at the boundary.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

from pydantic import NaiveDatetime
from sqlalchemy import Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class StoreMeta(SQLModel, table=True):
    """Key/value facts about the store, e.g. the data revision used as a cache key."""

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", sa_type=Text)


class Region(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=16)
    name_zh: str
    name_en: str
    kind: str = Field(max_length=16)  # banner / zone
    seat_zh: str = ""
    lat: float
    lon: float
    coordinate_quality: str = ""
    within: str = Field(default="", max_length=16)  # banner code a zone lies in


class InstrumentClass(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=6)  # 2-digit top or 4-digit middle class
    level: int
    name_zh: str
    name_en: str
    purpose: str = Field(max_length=8)  # general / special (reading of the class; records carry their own)
    parent: str = Field(default="", max_length=6)


class Unit(SQLModel, table=True):
    """A holding unit (legal person)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    name_en: str = ""
    unit_type: str = Field(max_length=16)  # 高校 / 科研院所 / 医疗卫生 / 检验检测 / 企业 / 其他
    region_code: str = Field(foreign_key="region.code", max_length=16)
    address: str = Field(default="", sa_type=Text)
    lat: Optional[float] = None
    lon: Optional[float] = None
    credit_code: str = Field(default="", max_length=32)  # 统一社会信用代码
    contact: str = ""
    phone: str = ""
    email: str = ""
    is_sme: bool = False  # small/medium enterprise (voucher eligibility)
    note: str = Field(default="", sa_type=Text)  # e.g. agency or lease arrangement


class Instrument(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_id", "inner_id", name="uq_instrument_unit_inner"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    inner_id: str = Field(max_length=64)
    name_zh: str
    name_en: str = ""
    affiliate: str = "不附属"
    class_code: str = Field(max_length=6, index=True)
    original_value: float  # CNY
    source: str = "购置"
    funding: str = ""
    country: str = ""
    manufacturer: str = ""
    model: str = ""
    start_date: Optional[date] = None
    purpose: str = Field(max_length=4)  # 通用 / 专用
    technical_specs: str = Field(default="", sa_type=Text)
    functions: str = Field(default="", sa_type=Text)
    disciplines: str = ""
    service_content: str = Field(default="", sa_type=Text)
    status: str = "正常"
    sharing_rules: str = Field(default="", sa_type=Text)
    fee_standard: str = Field(default="", sa_type=Text)
    booking_url: str = ""
    address: str = Field(default="", sa_type=Text)
    share_mode: str = "不共享"
    annual_run_hours: Optional[float] = None
    annual_service_hours: Optional[float] = None
    customs_supervised: str = "否"
    contact: str = ""
    phone: str = ""
    email: str = ""
    # Local extensions of the national layout.
    region_code: str = Field(foreign_key="region.code", max_length=16)
    exempt_reason: str = ""  # empty, or 国防 / 国家安全 / 国家利益 / 重大社会公共利益 / 特殊情形
    operation_mode: str = "自营"  # 自营 / 代理 / 融资租赁


class UsageMonthly(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("instrument_id", "year", "month", name="uq_usage_month"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    year: int = Field(index=True)
    month: int
    effective_hours: float = 0.0
    external_hours: float = 0.0
    samples: int = 0
    downtime_hours: float = 0.0


class ServiceRecord(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("instrument_id", "start_time", "applicant_unit", name="uq_service_key"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    instrument_id: int = Field(foreign_key="instrument.id", index=True)
    service_amount_cny: float = 0.0
    # Local wall-clock times as written in the national service record (no time zone). Indexed:
    # the evaluation, incentives and report read one year at a time (a range on start_time).
    start_time: NaiveDatetime = Field(index=True)
    end_time: NaiveDatetime
    service_content: str = Field(default="", sa_type=Text)
    service_way: str = "委托共享"
    service_quantity: float = 0.0
    project_name: str = ""
    project_funding: str = ""
    applicant: str = ""
    applicant_unit: str = Field(default="", max_length=200)
    user_type: str = "外部用户"  # 内部用户 / 外部用户
    direction: str = "科技开发"
    rating: str = ""
    # Local extensions: where the client sits and what kind it is (layout and voucher analysis).
    client_region_code: str = Field(default="", max_length=16)
    client_kind: str = ""  # 本地中小企业 / 本地大型企业 / 盟外企业 / 科研院所 / 高校 / 医疗卫生 / 政府部门 / 其他
    voucher_amount_cny: float = 0.0


class Voucher(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    firm_name: str = Field(max_length=200)
    firm_region_code: str = Field(default="", max_length=16)
    is_sme: bool = True
    year: int
    quota_cny: float
    issued_date: date


class Redemption(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    voucher_id: int = Field(foreign_key="voucher.id", index=True)
    service_record_id: int = Field(foreign_key="servicerecord.id", unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    amount_cny: float
    redeemed_date: date
    subsidy_cny: float = 0.0  # fiscal post-subsidy paid to the holder


class PurchaseRequest(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    request_no: str = Field(unique=True, max_length=32)
    applicant_unit_id: int = Field(foreign_key="unit.id", index=True)
    instrument_name: str
    class_code: str = Field(max_length=6)
    model: str = ""
    manufacturer: str = ""
    key_specs: str = Field(default="", sa_type=Text)
    quoted_price: float  # CNY
    quotes: str = Field(default="", sa_type=Text)
    funding: str = ""
    justification: str = Field(default="", sa_type=Text)
    expected_annual_hours: float = 0.0
    region_code: str = Field(foreign_key="region.code", max_length=16)
    submitted_date: date
    status: str = "submitted"  # submitted / checked / decided


class ReviewDecision(SQLModel, table=True):
    """Immutable once written; a later decision supersedes an earlier one."""

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="purchaserequest.id", index=True)
    verdict: str = Field(max_length=8)  # 通过 / 调整 / 不予通过
    reasons: str = Field(default="", sa_type=Text)
    conditions: str = Field(default="", sa_type=Text)
    reviewers: str = ""
    decided_date: date
    supersedes_id: Optional[int] = Field(default=None, foreign_key="reviewdecision.id")
    created_at: datetime = Field(default_factory=_utc_now)


class DuplicateCheck(SQLModel, table=True):
    """One run of the duplicate check on a purchase request, kept as evidence for the review:
    the suggested verdict (dupcheck id pass / adjust / reject), the tier, the fired rule ids
    (comma-separated) and the whole result as JSON (`dashboard.purchases.check_snapshot`)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="purchaserequest.id", index=True)
    checked_at: datetime = Field(default_factory=_utc_now)
    checked_by: str = ""
    tier: str = Field(max_length=16)
    suggested_verdict: str = Field(max_length=8)
    rules: str = ""
    snapshot_json: str = Field(default="{}", sa_type=Text)


class IndicatorScheme(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    version: int = 1
    definition_json: str = Field(default="{}", sa_type=Text)
    created_at: datetime = Field(default_factory=_utc_now)
    created_by: str = ""


class PublishedEvaluation(SQLModel, table=True):
    """An immutable snapshot of a published ranking."""

    id: Optional[int] = Field(default=None, primary_key=True)
    year: int
    scheme_id: Optional[int] = Field(default=None, foreign_key="indicatorscheme.id")
    snapshot_json: str = Field(default="{}", sa_type=Text)
    fingerprint: str = Field(max_length=128)
    published_at: datetime = Field(default_factory=_utc_now)
    published_by: str = ""


class Scenario(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    params_json: str = Field(default="{}", sa_type=Text)
    created_at: datetime = Field(default_factory=_utc_now)
    created_by: str = ""


class User(SQLModel, table=True):
    """A person who signs in: role viewer / evaluator / reviewer / admin (dashboard.auth.ROLES).
    password_hash is an Argon2id hash (empty for accounts that only sign in through OpenID
    Connect, matched by email)."""

    __tablename__ = "appuser"  # "user" is a reserved word in PostgreSQL

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254, index=True)
    role: str = Field(max_length=16)
    password_hash: str = Field(default="", max_length=256)
    active: bool = True
    created_at: datetime = Field(default_factory=_utc_now)


class AuditEntry(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=_utc_now, index=True)
    actor: str = ""
    action: str = Field(max_length=64)  # e.g. import.instruments, demo.load
    entity: str = Field(default="", max_length=64)
    entity_key: str = ""
    summary: str = Field(default="", sa_type=Text)
    before_json: str = Field(default="", sa_type=Text)
    after_json: str = Field(default="", sa_type=Text)


class Submission(SQLModel, table=True):
    """Who reported what, when: the basis for timeliness and non-reporting checks."""

    id: Optional[int] = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: str = Field(max_length=16)  # instruments / usage / services
    year: int
    month: Optional[int] = None  # None for an annual submission
    due_date: date
    submitted_at: Optional[datetime] = None  # aware (UTC); None: not reported


# Review decisions, duplicate-check runs and audit entries are evidence: once written they are
# never changed or deleted through the ORM (a new decision supersedes; the demo's bulk replace bypasses this on
# purpose, as it empties the whole store).
def _refuse_change(mapper, connection, target) -> None:
    raise PermissionError(f"{type(target).__name__} {target.id} is immutable once recorded")


for _model in (ReviewDecision, DuplicateCheck, AuditEntry):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
