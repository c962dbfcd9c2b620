"""The Data page: templates and exports, column reference, upload with errors, upload that imports."""

from __future__ import annotations

import csv
import io

from sqlmodel import Session, select

from models import tables as T
from models.db import data_revision, init_store, make_engine
from models.queries import count_rows
from tests.apptest_utils import open_app, wkey
from tests.factories import small_registry

PAGE = "pages/data.py"


def _store(db_url):
    eng = make_engine(db_url)
    init_store(eng)
    ids = small_registry(eng)
    return eng, ids


def _csv(rows) -> bytes:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


USAGE_HEADER = ["所属单位", "所在单位仪器内部编码", "年月", "有效机时", "对外服务机时"]


def _choose_kind(at, kind):
    at.selectbox(key=wkey(at, "data_kind")).set_value(kind).run()
    assert not at.exception, [e.message for e in at.exception]


def _upload(at, name, data, mime="text/csv"):
    at.file_uploader[0].set_value((name, data, mime)).run()
    assert not at.exception, [e.message for e in at.exception]


def test_page_offers_kinds_downloads_and_column_reference(monkeypatch, db_url):
    _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    assert at.title[0].value == "Data import & export"
    kind_box = at.selectbox(key=wkey(at, "data_kind"))
    assert kind_box.options == ["Units", "Instruments", "Monthly usage", "Service records"]
    assert [b.label for b in at.get("download_button")] == [
        "Empty template (CSV)", "Empty template (Excel)", "Current data (CSV)", "Current data (Excel)"]
    _choose_kind(at, "instruments")
    reference = at.dataframe[0].value
    assert list(reference.columns) == ["Header", "English key", "Required", "Allowed values", "Unit or format"]
    value_row = reference[reference["English key"] == "original_value"].iloc[0]
    assert (value_row["Header"], value_row["Required"], value_row["Unit or format"]) == (
        "原值", "yes", "10,000 CNY (wan yuan), at least two decimals")
    share = reference[reference["English key"] == "share_mode"].iloc[0]
    assert share["Allowed values"].replace(" ", "").count("/") == 2  # three national values


def test_upload_with_errors_shows_the_error_table_and_writes_nothing(monkeypatch, db_url):
    eng, _ = _store(db_url)
    revision = data_revision(eng)
    usage_before = count_rows(eng, T.UsageMonthly)
    at = open_app(monkeypatch, db_url, page=PAGE)
    _choose_kind(at, "usage")
    data = _csv([USAGE_HEADER,
                 ["阿拉善盟测试研究院", "HPLC-1", "2026-01", "90", "30"],
                 ["阿拉善盟测试研究院", "HPLC-1", "2026-02", "700", "30"],  # February 2026 has 672 h
                 ["额济纳旗气象站", "NOPE", "2026-01", "10", "0"]])
    _upload(at, "usage.csv", data)
    assert at.error[0].value == "文件有 2 处错误，未导入任何数据。请修改后重新上传。"
    errors = at.dataframe[-1].value
    assert errors.values.tolist() == [
        [3, "有效机时", "700", "超过当月小时数（672）"],
        [4, "所在单位仪器内部编码", "NOPE", "单位“额济纳旗气象站”下没有该内部编码的仪器，请先导入仪器"],
    ]
    assert not at.main.button  # no import button for a bad file
    assert (count_rows(eng, T.UsageMonthly), data_revision(eng)) == (usage_before, revision)

    # The same errors in English after a language switch.
    at.sidebar.radio[0].set_value("en").run()
    assert at.error[0].value == "The file has 2 errors; nothing was imported. Correct them and upload the file again."
    assert at.dataframe[-1].value.columns.tolist() == ["Row", "Column", "Value", "Reason"]
    assert at.dataframe[-1].value.iloc[0]["Reason"] == "more than the hours in that month (672)"


def _record_spinners(monkeypatch) -> list[str]:
    """The texts of the spinners the page shows (AppTest keeps no spinner once the run is over)."""
    import contextlib

    import streamlit

    texts: list[str] = []
    real = streamlit.spinner

    @contextlib.contextmanager
    def spinner(text="", *args, **kwargs):
        texts.append(text)
        with real(text, *args, **kwargs):
            yield

    monkeypatch.setattr(streamlit, "spinner", spinner)
    return texts


def test_upload_that_imports_shows_counts_and_writes(monkeypatch, db_url):
    eng, ids = _store(db_url)
    spinners = _record_spinners(monkeypatch)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    _choose_kind(at, "usage")
    data = _csv([USAGE_HEADER,
                 ["阿拉善盟测试研究院", "HPLC-1", "2025-12", "100", "40"],  # as stored
                 ["阿拉善盟测试研究院", "HPLC-1", "2026-01", "90", "30"],
                 ["额济纳旗气象站", "RADAR-1", "2026-01", "55", "0"]])
    _upload(at, "usage.csv", data)
    assert not at.error
    preview = at.dataframe[-1].value
    assert preview.index.tolist() == [2, 3, 4] and preview["有效机时"].tolist() == ["100", "90", "55"]
    assert at.info[0].value == "Validation passed: 3 rows. Importing will insert 2, update 0 and leave 1 unchanged."
    assert count_rows(eng, T.UsageMonthly) == 48  # nothing written by the check

    at.main.button[0].click().run()
    assert not at.exception
    assert at.success[0].value == "Imported: 2 inserted, 0 updated, 1 unchanged."
    # The check and the import each run under a spinner that says what is happening.
    assert "Reading and checking usage.csv…" in spinners and "Importing 3 rows…" in spinners
    with Session(eng) as s:
        jan = s.exec(select(T.UsageMonthly).where(T.UsageMonthly.year == 2026).order_by(T.UsageMonthly.instrument_id)).all()
        audit = s.exec(select(T.AuditEntry)).one()
    assert [(u.instrument_id, u.effective_hours, u.external_hours) for u in jan] == [
        (ids["hplc"], 90.0, 30.0), (ids["radar"], 55.0, 0.0)]
    assert (audit.action, audit.actor) == ("import.usage", "test-admin")  # the signed-in person
    assert count_rows(eng, T.Submission) == 3  # two unit-months of unit 1, one of unit 2


def test_unreadable_upload_is_reported(monkeypatch, db_url):
    eng, _ = _store(db_url)
    at = open_app(monkeypatch, db_url, page=PAGE, lang="en")
    _upload(at, "units.xlsx", b"this is no workbook", mime="application/octet-stream")
    assert at.error[0].value.startswith("The file cannot be read: the file is damaged or not in the stated format")
    assert count_rows(eng, T.Unit) == 2
