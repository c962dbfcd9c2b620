"""The national record layout: enumerations and the columns of each importable record kind.

Columns follow `data/reference/nrii_fields.csv` (Chinese headers as in the national layout,
English keys accepted too). A few local extensions (region, exemption, operation mode, client
location, voucher amount) are marked `local=True`; they are optional on import.
"""

from __future__ import annotations

from dataclasses import dataclass

CENSUS_FLOOR_CNY = 50_000  # seed text: 单台套价值在5万元及以上
WAN = 10_000  # 1 万元 in CNY

UNIT_TYPES = ("高校", "科研院所", "医疗卫生", "检验检测", "企业", "其他")
AFFILIATES = (
    "不附属",
    "附属于科学仪器中心",
    "附属于重大科研基础设施",
    "附属于国家重点实验室",
    "附属于国家工程技术研究中心",
    "附属于生物种质资源库馆",
)
SOURCES = ("购置", "研制", "赠送", "其他")
FUNDINGS = ("中央财政资金", "地方财政资金", "单位自有资金", "其他资金")
PURPOSES = ("通用", "专用")
STATUSES = ("正常", "待机", "远程服务中", "偶有故障", "故障频繁", "待修", "待报废")
SHARE_MODES = ("内部共享", "外部共享", "不共享")
YES_NO = ("是", "否")
EXEMPT_REASONS = ("", "国防", "国家安全", "国家利益", "重大社会公共利益", "特殊情形")
OPERATION_MODES = ("自营", "代理", "融资租赁")
SERVICE_WAYS = ("占用共享", "技术共享", "委托共享", "远程共享", "其他")
USER_TYPES = ("内部用户", "外部用户")
DIRECTIONS = ("科学研究", "科技开发", "教学", "其他")
RATINGS = ("非常满意", "基本满意", "一般", "不满意", "极差")
PROJECT_FUNDING_CODES = tuple("ABCDEFGHIJKLMNOP")
CLIENT_KINDS = (
    "本地中小企业",
    "本地大型企业",
    "盟外企业",
    "科研院所",
    "高校",
    "医疗卫生",
    "政府部门",
    "其他",
)
# Statuses under which an instrument cannot be offered or should not log usage.
OUT_OF_SERVICE_STATUSES = ("待修", "待报废")
# Rating scale as numbers (5 best) for averages.
RATING_SCORES = {"非常满意": 5, "基本满意": 4, "一般": 3, "不满意": 2, "极差": 1}

RECORD_KINDS = ("units", "instruments", "usage", "services")


@dataclass(frozen=True)
class Column:
    """One column of an import/export layout."""

    key: str  # English key (also accepted as a header)
    zh: str  # national Chinese header
    kind: str  # text / number / integer / date / datetime / month / enum / bool
    required: bool = False
    choices: tuple[str, ...] = ()
    max_len: int | None = None
    local: bool = False  # local extension of the national layout


UNIT_COLUMNS = (
    Column("name", "单位名称", "text", True, max_len=200),
    Column("name_en", "英文名称", "text", max_len=300),
    Column("unit_type", "单位类型", "enum", True, UNIT_TYPES),
    Column("region_code", "所在地区", "text", True, local=True),
    Column("address", "通讯地址", "text", max_len=300),
    Column("lat", "纬度", "number", local=True),
    Column("lon", "经度", "number", local=True),
    Column("credit_code", "统一社会信用代码", "text", max_len=18),
    Column("contact", "联系人", "text", max_len=100),
    Column("phone", "电话", "text", max_len=50),
    Column("email", "电子邮箱", "text", max_len=200),
    Column("is_sme", "是否中小企业", "bool", local=True),
    Column("note", "备注", "text", max_len=500, local=True),
)

INSTRUMENT_COLUMNS = (
    Column("inner_id", "所在单位仪器内部编码", "text", True, max_len=64),
    Column("unit", "所属单位", "text", True, max_len=200),
    Column("name_zh", "中文名称", "text", True, max_len=200),
    Column("name_en", "英文名称", "text", max_len=300),
    Column("affiliate", "所属(附属)关系", "enum", False, AFFILIATES),
    Column("class_code", "设备分类编码", "text", True),
    Column("original_value", "原值", "number", True),  # 万元, as in national reporting
    Column("source", "仪器设备来源", "enum", False, SOURCES),
    Column("funding", "主要购置经费来源", "enum", True, FUNDINGS),
    Column("country", "产地国别", "text", max_len=50),
    Column("manufacturer", "生产制造商", "text", max_len=200),
    Column("model", "规格型号", "text", max_len=200),
    Column("start_date", "启用日期", "date", True),
    Column("purpose", "仪器类别", "enum", True, PURPOSES),
    Column("technical_specs", "主要技术指标", "text", max_len=500),
    Column("functions", "主要功能", "text", max_len=300),
    Column("disciplines", "主要学科领域", "text", max_len=200),
    Column("service_content", "服务内容", "text", max_len=200),
    Column("status", "运行状态", "enum", True, STATUSES),
    Column("sharing_rules", "对外开放共享规定", "text", max_len=500),
    Column("fee_standard", "参考收费标准", "text", max_len=500),
    Column("booking_url", "预约服务网址", "text", max_len=300),
    Column("address", "安放地址", "text", max_len=300),
    Column("share_mode", "共享模式", "enum", True, SHARE_MODES),
    Column("annual_run_hours", "年总运行机时", "number"),
    Column("annual_service_hours", "年服务机时", "number"),
    Column("customs_supervised", "海关监管情况", "enum", False, YES_NO),
    Column("contact", "联系人", "text", max_len=100),
    Column("phone", "电话", "text", max_len=50),
    Column("email", "电子邮箱", "text", max_len=200),
    Column("region_code", "安放地区", "text", local=True),
    Column("exempt_reason", "免于开放理由", "enum", False, EXEMPT_REASONS, local=True),
    Column("operation_mode", "运营模式", "enum", False, OPERATION_MODES, local=True),
)

USAGE_COLUMNS = (
    Column("unit", "所属单位", "text", True, max_len=200),
    Column("inner_id", "所在单位仪器内部编码", "text", True, max_len=64),
    Column("month", "年月", "month", True, local=True),  # YYYY-MM
    Column("effective_hours", "有效机时", "number", True, local=True),
    Column("external_hours", "对外服务机时", "number", True, local=True),
    Column("samples", "样品数", "integer", local=True),
    Column("downtime_hours", "停机时长", "number", local=True),
)

SERVICE_COLUMNS = (
    Column("unit", "所属单位", "text", True, max_len=200),
    Column("inner_id", "所在单位仪器内部编码", "text", True, max_len=64),
    Column("service_amount_cny", "服务金额", "number", True),
    Column("start_time", "实际服务开始时间", "datetime", True),
    Column("end_time", "实际服务结束时间", "datetime", True),
    Column("service_content", "服务内容", "text", max_len=200),
    Column("service_way", "服务方式", "enum", True, SERVICE_WAYS),
    Column("service_quantity", "服务量", "number", True),
    Column("project_name", "课题名称", "text", max_len=200),
    Column("project_funding", "课题经费来源", "enum", False, PROJECT_FUNDING_CODES),
    Column("applicant", "申请人", "text", max_len=100),
    Column("applicant_unit", "申请人单位", "text", True, max_len=200),
    Column("user_type", "服务类型", "enum", True, USER_TYPES),
    Column("direction", "服务对象/方向", "enum", False, DIRECTIONS),
    Column("rating", "用户评价", "enum", False, RATINGS),
    Column("client_region_code", "申请人单位所在地区", "text", local=True),
    Column("client_kind", "申请人单位类型", "enum", False, CLIENT_KINDS, local=True),
    Column("voucher_amount_cny", "创新券抵扣金额", "number", local=True),
)

LAYOUTS: dict[str, tuple[Column, ...]] = {
    "units": UNIT_COLUMNS,
    "instruments": INSTRUMENT_COLUMNS,
    "usage": USAGE_COLUMNS,
    "services": SERVICE_COLUMNS,
}


def purpose_from_class(class_code: str) -> str:
    """Default 通用/专用 reading of a class code: top classes 01–03 general, the rest special."""
    return "通用" if class_code[:2] in ("01", "02", "03") else "专用"
