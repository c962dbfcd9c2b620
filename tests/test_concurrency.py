"""Concurrent writers leave a consistent store (SQLite file in WAL mode, and PostgreSQL when
TEST_DATABASE_URL is set).

Every test starts its writers in threads, each with its own engine (as two app sessions or an app
and a command line would have), released together by a barrier. The assertions are invariants
that hold whatever order the writers end up in, so no test depends on timing; the barrier only
makes the overlap likely, which is what exposed the lost updates and duplicate numbers these tests
were written against. Store writers are serialised (models.db.make_engine: BEGIN IMMEDIATE on
SQLite, a transaction-scoped advisory lock on PostgreSQL), so a write service's reads and writes
see one state of the store.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from dashboard import purchases as PR
from dashboard import transfer
from dashboard.evaluation import publish, run_evaluation
from dashboard.i18n import catalogue
from dashboard.incentives import RewardRule
from dashboard.scenarios import ScenarioParams
from dashboard.scheme import default_scheme
from models import db
from models import tables as T
from models.db import bump_revision, data_revision, init_store, make_engine, session_scope
from models.evaluations import latest_publication_id
from models.services import evaluation as SE
from models.services import purchases as SP
from models.services.scenarios import save_scenario
from tests.factories import add_instrument, add_unit, add_usage

TODAY = date(2026, 3, 10)
YEAR = 2025
BARRIER_TIMEOUT_S = 30  # only guards against a hang; a healthy run passes the barrier at once


@pytest.fixture
def url(db_url):
    """A fresh store (schema and reference data) that the test's threads open by URL."""
    engine = make_engine(db_url)
    init_store(engine)
    engine.dispose()
    return db_url


def run_together(url: str, calls: list) -> list:
    """Call each `call(engine)` in its own thread with its own engine, all released at once;
    the results in order (an exception in any thread is raised here)."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        engine = make_engine(url)
        try:
            barrier.wait(BARRIER_TIMEOUT_S)
            return call(engine)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result() for f in futures]


def rows(url: str, model, *where, order=None) -> list:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            stmt = select(model).where(*where).order_by(order if order is not None else model.id)
            return list(s.exec(stmt).all())
    finally:
        engine.dispose()


def count(url: str, model, *where) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            return s.exec(select(func.count()).select_from(model).where(*where)).one()
    finally:
        engine.dispose()


def revision(url: str) -> int:
    engine = make_engine(url)
    try:
        return data_revision(engine)
    finally:
        engine.dispose()


def audits(url: str, action: str) -> list[T.AuditEntry]:
    return rows(url, T.AuditEntry, T.AuditEntry.action == action)


# --------------------------------------------------------------------------- the engine


def test_file_sqlite_store_runs_in_wal_mode(url, backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.WRITE_LOCK_TIMEOUT_S * 1000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_in_memory_sqlite_keeps_its_own_journal():
    engine = make_engine("sqlite://")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "memory"
        init_store(engine)  # writes work in a write transaction
        with session_scope(engine) as s:
            bump_revision(s)
        assert data_revision(engine) == 1
    finally:
        engine.dispose()


def _other_writer_can_start(url: str, backend: str) -> bool:
    """Whether a second connection could start writing right now, asked without waiting."""
    if backend == "sqlite":
        import sqlite3

        probe = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
            return False
        finally:
            probe.close()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k, hashtext(current_schema()))"),
                                     {"k": db.PG_WRITE_LOCK_KEY}).scalar())
    finally:
        engine.dispose()


def test_a_write_transaction_holds_the_store_write_lock_from_its_start(url, backend):
    """A write service reads before it writes; it holds the write lock from its first statement
    (not only from its first write), so nobody can commit between its reads and its writes. Plain
    reads take no lock and never wait for a writer."""
    engine = make_engine(url)
    try:
        assert _other_writer_can_start(url, backend)
        with session_scope(engine) as s:
            s.exec(select(T.StoreMeta)).all()  # a read only
            assert not _other_writer_can_start(url, backend)
            with engine.connect() as reader:  # a reader meanwhile is not blocked
                assert reader.execute(select(func.count()).select_from(T.Region)).scalar() > 0
        assert _other_writer_can_start(url, backend)
        with Session(engine) as s:  # a session opened for reading takes no lock
            s.exec(select(T.StoreMeta)).all()
            assert _other_writer_can_start(url, backend)
    finally:
        engine.dispose()


# --------------------------------------------------------------------------- data revision


def test_concurrent_revision_bumps_are_never_lost(url):
    """bump_revision is one UPDATE ... SET value = value + 1, atomic on its own: it is called
    here in plain sessions (not the serialised write transactions) and still loses nothing."""
    start = revision(url)
    threads, bumps = 8, 25

    def bump_many(engine):
        for _ in range(bumps):
            with Session(engine) as s:
                bump_revision(s)
                s.commit()

    run_together(url, [bump_many] * threads)
    assert revision(url) == start + threads * bumps


# --------------------------------------------------------------------------- imports


def _units_file(names: list[str]) -> bytes:
    lines = ["单位名称,单位类型,所在地区"] + [f"{n},企业,152921" for n in names]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def test_two_imports_at_once_both_land_whole(url):
    """Two unit files, 40 units each plus one unit both name. Each import is one transaction: all
    its units are there, the shared unit once; between them exactly one import inserted it."""
    files = {i: [f"单位{i}-{k:02d}" for k in range(40)] + ["共同单位"] for i in (1, 2)}
    start = revision(url)

    def importer(i):
        return lambda engine: transfer.import_file(engine, "units", f"units{i}.csv", _units_file(files[i]),
                                                   actor=f"importer{i}")

    outcomes = run_together(url, [importer(1), importer(2)])
    assert all(o.ok and o.written for o in outcomes), [o.parsed.errors for o in outcomes]
    assert sorted((o.counts.inserted, o.counts.unchanged) for o in outcomes) == [(40, 1), (41, 0)]
    names = [u.name for u in rows(url, T.Unit)]
    assert sorted(names) == sorted(set(files[1]) | set(files[2])) and len(names) == 81
    entries = audits(url, "import.units")
    assert sorted(e.entity_key for e in entries) == ["units1.csv", "units2.csv"]
    assert revision(url) == start + 2


# --------------------------------------------------------------------------- scenarios


def test_scenario_saves_at_once_each_store_a_row_and_chain_their_audit(url):
    """Four saves under one name: four rows, four audit entries, four revision bumps; each
    entry's "before" is the row saved just before it (none for the first), as for saves one
    after the other."""
    start = revision(url)
    pools = [1_000_000.0, 2_000_000.0, 3_000_000.0, 4_000_000.0]

    def saver(pool):
        params = ScenarioParams(year=YEAR, reward=RewardRule(pool_cny=pool))
        return lambda engine: save_scenario(engine, "方案甲", f"奖补资金池 {pool:.0f} 元", params, actor=f"u{pool:.0f}")

    ids = run_together(url, [saver(p) for p in pools])
    assert len(set(ids)) == 4
    saved = rows(url, T.Scenario)
    assert sorted(r.id for r in saved) == sorted(ids)
    entries = audits(url, "scenario.save")
    assert [int(e.entity_key) for e in entries] == sorted(ids)  # audit order = row order
    befores = [json.loads(e.before_json)["id"] if e.before_json else None for e in entries]
    assert befores == [None, *sorted(ids)[:-1]]
    for e, row in zip(entries, sorted(saved, key=lambda r: r.id)):
        assert json.loads(e.after_json)["params"] == json.loads(row.params_json)["params"]
    assert revision(url) == start + 4


# --------------------------------------------------------------------------- purchase requests

REQUEST = {
    "applicant": "甲研究院",
    "instrument_name": "液相色谱仪",
    "class_code": "010501",
    "quoted_price": "300,000",
    "funding": "地方财政资金",
    "justification": "教学科研急需",
    "submitted_date": "2026-03-02",
}
ALIASES = PR.header_aliases({"zh": catalogue("zh"), "en": catalogue("en")})


def _request_table(n: int):
    header = list(REQUEST)
    lines = [",".join(header)] + [",".join(f'"{REQUEST[h]}"' for h in header)] * n
    return PR.read_request_file("requests.csv", ("\r\n".join(lines) + "\r\n").encode("utf-8"))


@pytest.fixture
def applicant(url):
    engine = make_engine(url)
    try:
        add_unit(engine, "甲研究院", region_code="152921")
        holder = add_unit(engine, "乙检测中心", region_code="152921")
        inst = add_instrument(engine, holder, "HPLC-A", "高效液相色谱仪", share_mode="外部共享")
        add_usage(engine, inst, YEAR, [30.0] * 12)
    finally:
        engine.dispose()
    return url


def test_requests_submitted_and_imported_at_once_get_distinct_numbers(applicant):
    """Three form submissions and an import of three rows at once: six requests numbered
    ALS-CG-2026-0001 … 0006, each number once, the import's three in one transaction."""
    url = applicant
    submit = lambda engine: [SP.submit_request(engine, REQUEST, actor="填报员", today=TODAY)]  # noqa: E731
    imp = lambda engine: SP.import_requests(engine, _request_table(3), actor="导入员", today=TODAY,  # noqa: E731
                                            aliases=ALIASES, source="requests.csv")
    results = run_together(url, [submit, submit, submit, imp])
    numbers = [no for out in results for _, no in out]
    assert sorted(numbers) == [f"ALS-CG-2026-{k:04d}" for k in range(1, 7)]
    stored = rows(url, T.PurchaseRequest)
    assert sorted(r.request_no for r in stored) == sorted(numbers)
    imported = [no for _, no in results[3]]
    assert [int(n[-4:]) for n in imported] == list(range(int(imported[0][-4:]), int(imported[0][-4:]) + 3))
    assert len(audits(url, "purchase.submit")) == 3 and len(audits(url, "purchase.import")) == 1


def test_a_number_taken_behind_the_services_back_is_a_clean_error(applicant, monkeypatch):
    """Should the store's unique request number refuse a row (a writer outside this app), the
    submission is refused as `request_no_taken` and writes nothing."""
    url = applicant
    engine = make_engine(url)
    try:
        SP.submit_request(engine, REQUEST, actor="x", today=TODAY)  # ALS-CG-2026-0001
        monkeypatch.setattr(SP, "_taken_numbers", lambda session: set())  # numbering misses it
        with pytest.raises(PR.ReviewError) as exc:
            SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
        assert [(e.field, e.code, e.value) for e in exc.value.errors] == [
            ("request_no", "request_no_taken", "ALS-CG-2026-0001")]
        assert count(url, T.PurchaseRequest) == 1 and len(audits(url, "purchase.submit")) == 1
    finally:
        engine.dispose()


def test_checks_and_decisions_at_once_keep_one_decision_in_force(applicant):
    """Two duplicate checks at once: both runs kept. Then three decisions at once: they form one
    chain, each superseding the one before it, so exactly one is in force."""
    url = applicant
    engine = make_engine(url)
    try:
        rid, no = SP.submit_request(engine, REQUEST, actor="x", today=TODAY)
    finally:
        engine.dispose()
    check = lambda engine: SP.run_check(engine, rid, actor="核查员", on_date=TODAY).id  # noqa: E731
    runs = run_together(url, [check, check])
    assert sorted(r.id for r in rows(url, T.DuplicateCheck)) == sorted(runs)
    assert len(audits(url, "purchase.check")) == 2

    def decide(verdict):
        raw = {"verdict": verdict, "reasons": "理由", "reviewers": "张三、李四", "decided_date": "2026-03-08",
               "conditions": "共享使用" if verdict == "调整" else ""}
        return lambda engine: SP.record_decision(engine, rid, raw, actor="评议组", today=TODAY)

    ids = run_together(url, [decide("通过"), decide("调整"), decide("不予通过")])
    chain = rows(url, T.ReviewDecision)
    assert [d.id for d in chain] == sorted(ids)
    assert [d.supersedes_id for d in chain] == [None, *[d.id for d in chain[:-1]]]
    in_force = PR.current_decisions(_frame(chain))
    assert list(in_force["id"]) == [chain[-1].id]
    assert rows(url, T.PurchaseRequest)[0].status == PR.DECIDED


def _frame(decisions):
    return pd.DataFrame([d.model_dump() for d in decisions], columns=list(T.ReviewDecision.model_fields))


# --------------------------------------------------------------------------- publication


@pytest.fixture
def evaluation_url(url):
    """Two units with two instruments each and a year of usage: enough to rank."""
    engine = make_engine(url)
    try:
        for name, hours in (("甲研究院", 100.0), ("乙中心", 30.0)):
            unit = add_unit(engine, name, region_code="152921")
            for n in range(2):
                add_usage(engine, add_instrument(engine, unit, f"{name}-{n}", f"仪器{n}"), YEAR, [hours] * 12)
    finally:
        engine.dispose()
    return url


def _publisher(url: str, scheme, actor: str):
    engine = make_engine(url)
    try:
        table, result = run_evaluation(engine, YEAR, scheme)
    finally:
        engine.dispose()
    return lambda engine: publish(engine, YEAR, scheme, result, table, actor=actor)


def test_the_same_ranking_published_twice_at_once_is_stored_once(evaluation_url):
    """Both publish the same result (same fingerprint): one publication, one scheme version,
    one audit entry each; both callers get its id and exactly one of them created it."""
    url = evaluation_url
    start = revision(url)
    scheme = default_scheme()
    pubs = run_together(url, [_publisher(url, scheme, "甲"), _publisher(url, scheme, "乙")])
    stored = rows(url, T.PublishedEvaluation)
    assert len(stored) == 1 and {p.id for p in pubs} == {stored[0].id}
    assert sorted(p.created for p in pubs) == [False, True]
    schemes = rows(url, T.IndicatorScheme)
    assert [(s.name, s.version) for s in schemes] == [(scheme.name, 1)] and stored[0].scheme_id == schemes[0].id
    assert len(audits(url, "evaluation.publish")) == 1 and len(audits(url, "scheme.save")) == 1
    assert json.loads(stored[0].snapshot_json)["fingerprint"] == stored[0].fingerprint
    assert revision(url) == start + 2


def test_two_rankings_published_at_once_are_two_complete_versions(evaluation_url):
    """Different schemes (so different fingerprints) for the same year at once: two complete
    publications, each with its own scheme version (1 and 2, not 2 twice); the newer is in force."""
    url = evaluation_url
    base = default_scheme()
    other = base.with_weights({g.id: g.weight + 10 for g in base.groups if g.id == "share"})
    pubs = run_together(url, [_publisher(url, base, "甲"), _publisher(url, other, "乙")])
    assert all(p.created for p in pubs)
    stored = rows(url, T.PublishedEvaluation)
    assert sorted(p.id for p in stored) == sorted(p.id for p in pubs)
    schemes = {s.id: s for s in rows(url, T.IndicatorScheme)}
    assert sorted(s.version for s in schemes.values()) == [1, 2]
    for pub in stored:
        snap = json.loads(pub.snapshot_json)
        assert snap["fingerprint"] == pub.fingerprint and snap["year"] == YEAR
        assert len(snap["units"]) == 2
        stored_scheme = json.loads(schemes[pub.scheme_id].definition_json)
        assert stored_scheme["groups"] == snap["scheme"]["groups"]
    assert len({p.fingerprint for p in stored}) == 2
    entries = audits(url, "evaluation.publish")
    assert sorted(int(e.entity_key) for e in entries) == sorted(p.id for p in stored)
    engine = make_engine(url)
    try:
        assert latest_publication_id(engine, YEAR) == max(p.id for p in stored)
    finally:
        engine.dispose()


def test_a_publication_that_fails_writes_nothing(evaluation_url, monkeypatch):
    """The snapshot, its audit entry and the revision bump are one transaction: when the audit
    write fails, no publication is stored and the revision stays."""
    url = evaluation_url
    engine = make_engine(url)
    try:
        SE.ensure_scheme(engine, default_scheme())
        start = revision(url)

        def broken(*args, **kwargs):
            raise RuntimeError("audit store unavailable")

        monkeypatch.setattr(SE, "record_write", broken)
        table, result = run_evaluation(engine, YEAR)
        with pytest.raises(RuntimeError, match="audit store unavailable"):
            publish(engine, YEAR, result.scheme, result, table, actor="甲")
        assert count(url, T.PublishedEvaluation) == 0 and revision(url) == start
        assert len(audits(url, "evaluation.publish")) == 0
    finally:
        engine.dispose()


def test_nested_write_transactions_fail_instead_of_hanging(url, backend, monkeypatch):
    """A write transaction opened while the same thread holds another would wait for itself; it
    gives up after the lock timeout with an error instead of hanging (the timeout is shortened
    here)."""
    monkeypatch.setattr(db, "WRITE_LOCK_TIMEOUT_S", 1)
    outer_engine, inner_engine = make_engine(url), make_engine(url)
    try:
        with session_scope(outer_engine) as s:
            s.exec(select(T.StoreMeta)).all()
            with pytest.raises(OperationalError):
                with session_scope(inner_engine) as inner:
                    inner.exec(select(T.StoreMeta)).all()
    finally:
        outer_engine.dispose()
        inner_engine.dispose()
