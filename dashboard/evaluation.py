"""Orchestration of the performance evaluation for the Evaluation page and the command line.

`run_evaluation` reads the store and scores a year; `publish` stores the immutable snapshot;
`verify_publication` re-computes a published evaluation from the store with the published scheme
and weights and says whether it still gives the same result (and, if not, which units moved).
`run_evaluate` is the CLI command `python -m dashboard evaluate`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from dashboard import auth
from dashboard import indicators, publication, scoring
from dashboard.i18n import Translator
from dashboard.indicators import IndicatorTable
from dashboard.scheme import GROUP_IDS, Scheme, SchemeError, default_scheme
from dashboard.scoring import EvaluationResult
from models import evaluations as E
from models import queries as Q
from models.services.evaluation import Publication, ensure_scheme, publish_evaluation

EXIT_OK, EXIT_INVALID_DATA, EXIT_USAGE = 0, 1, 2
CLI_FORMATS = ("text", "csv", "json")


class EvaluationUnavailable(Exception):
    """An evaluation that cannot be run; `key` and `params` name the catalogue message."""

    def __init__(self, key: str, **params):
        super().__init__(key, params)
        self.key, self.params = key, params

    def message(self, t: Translator) -> str:
        return t(self.key, **self.params)


@dataclass(frozen=True)
class VerifyOutcome:
    same: bool
    published_fingerprint: str
    recomputed_fingerprint: str
    differences: pd.DataFrame  # publication.unit_differences: units whose score/rank/grade changed
    data_changed: bool  # the raw indicator values or unit statuses differ from the published ones


# --------------------------------------------------------------------------- evaluation


def current_scheme(engine: Engine) -> Scheme:
    """The latest stored scheme version, else the default scheme file."""
    latest = E.latest_scheme(engine)
    return default_scheme() if latest is None else latest[1]


def years_with_data(engine: Engine) -> list[int]:
    return Q.usage_years(engine)


def run_evaluation(engine: Engine, year: int, scheme: Scheme | None = None, weights: pd.Series | None = None,
                   *, floor: float = scoring.GEOMETRIC_FLOOR) -> tuple[IndicatorTable, EvaluationResult]:
    """Indicators from the store and the scored result for `year`. `scheme` defaults to
    `current_scheme`; `weights` (global weight per indicator id) overrides the scheme's."""
    scheme = scheme or current_scheme(engine)
    table = indicators.compute_indicators(indicators.load_inputs(engine, year), year, scheme)
    result = scoring.evaluate(table.raw, table.units, scheme, weights=weights, floor=floor)
    return table, result


def region_names(engine: Engine) -> dict[str, tuple[str, str]]:
    regions = Q.regions(engine)
    return {str(r.code): (r.name_zh, r.name_en) for r in regions.itertuples()}


def build_snapshot(engine: Engine, year: int, scheme: Scheme, result: EvaluationResult,
                   table: IndicatorTable, *, data_fingerprint: str | None = None) -> dict:
    """The publishable snapshot of `result`; `data_fingerprint` is that of `table` when the
    caller already has it (it is computed otherwise)."""
    if result.scheme != scheme:
        raise ValueError("the result was computed with another scheme than the one given")
    if data_fingerprint is None:
        data_fingerprint = publication.data_fingerprint(table)
    return publication.snapshot(year, scheme, result, table, data_fingerprint, regions=region_names(engine))


def publish(engine: Engine, year: int, scheme: Scheme, result: EvaluationResult, table: IndicatorTable,
            actor) -> Publication:
    """Store the evaluation as an immutable publication (its scheme stored as a version first
    if needed). Publishing an identical result again for the year writes nothing
    (Publication.created is False)."""
    auth.require(actor, auth.PUBLISH)  # before the scheme is stored: nothing is written when refused
    snap = build_snapshot(engine, year, scheme, result, table)
    scheme_id = ensure_scheme(engine, scheme, actor=actor)
    return publish_evaluation(engine, year=year, scheme_id=scheme_id, snapshot=snap,
                              fingerprint=snap["fingerprint"], actor=actor)


def verify_publication(engine: Engine, pub_id: int) -> VerifyOutcome:
    """Re-compute a publication from the store with its own scheme and weights; compare."""
    published = E.published_snapshot(engine, pub_id)
    if published is None:
        raise EvaluationUnavailable("pub.err.no_publication", id=pub_id)
    scheme = publication.snapshot_scheme(published)
    weights = pd.Series(published["weights"], dtype=float)
    floor = float(published.get("geometric_floor", scoring.GEOMETRIC_FLOOR))
    year = int(published["year"])
    table, result = run_evaluation(engine, year, scheme, weights, floor=floor)
    recomputed = build_snapshot(engine, year, scheme, result, table)
    stored_fp = published["publication"]["fingerprint"]
    return VerifyOutcome(
        same=recomputed["fingerprint"] == stored_fp,
        published_fingerprint=stored_fp,
        recomputed_fingerprint=recomputed["fingerprint"],
        differences=publication.unit_differences(published, recomputed),
        data_changed=recomputed["data_fingerprint"] != published["data_fingerprint"],
    )


# --------------------------------------------------------------------------- CLI


def resolve_scheme(engine: Engine, spec: str | None) -> Scheme:
    """--scheme: a stored scheme id (digits) or a path to a scheme JSON file; None: current."""
    if spec is None:
        return current_scheme(engine)
    if spec.strip().isdigit():
        scheme = E.scheme_by_id(engine, int(spec))
        if scheme is None:
            known = ", ".join(str(i) for i in E.indicator_schemes(engine)["id"]) or "—"
            raise EvaluationUnavailable("pub.err.unknown_scheme_id", id=spec.strip(), known=known)
        return scheme
    path = Path(spec)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EvaluationUnavailable("pub.err.scheme_file_unreadable", file=spec, reason=exc.strerror or str(exc)) from exc
    try:
        return Scheme.from_json(text)
    except SchemeError as exc:
        raise EvaluationUnavailable("pub.err.scheme_invalid", file=spec, reason=str(exc)) from exc


def _check_year(engine: Engine, year: int) -> None:
    years = years_with_data(engine)
    if year not in years:
        raise EvaluationUnavailable("pub.err.no_data_for_year", year=year,
                                    years=", ".join(str(y) for y in years) or "—")


def _text_report(snap: dict, t: Translator) -> str:
    scheme = publication.snapshot_scheme(snap)
    rated, unrated = publication.rated_units(snap), publication.unrated_units(snap)
    lines = [t("pub.cli.header", year=snap["year"], scheme=scheme.name, version=scheme.version,
               rated=len(rated), total=len(snap["units"]))]
    headers = publication.ranking_headers(t)
    lines.append("\t".join(headers))
    lines += ["\t".join(row) for row in publication.ranking_rows(snap, t)]
    if unrated:
        lines.append(t("pub.cli.not_rated"))
        lines += ["\t".join(row) for row in publication.unrated_rows(snap, t)]
    lines.append(t("pub.cli.fingerprint", fingerprint=snap["fingerprint"], data=snap["data_fingerprint"]))
    return "\n".join(lines)


def _json_report(snap: dict) -> str:
    scheme = snap["scheme"]
    keep = ("unit_id", "name", "name_en", "unit_type", "region_code", "status", "rank", "score", "grade")
    payload = {
        "year": snap["year"],
        "scheme": {"name": scheme["name"], "version": scheme["version"]},
        "weights": snap["weights"],
        "data_fingerprint": snap["data_fingerprint"],
        "fingerprint": snap["fingerprint"],
        "units": [{**{k: u[k] for k in keep}, "groups": {g: u["groups"][g] for g in GROUP_IDS}}
                  for u in snap["units"]],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def render_report(snap: dict, fmt: str, t: Translator) -> str:
    if fmt == "json":
        return _json_report(snap)
    if fmt == "csv":
        return publication.notice_csv(snap, t).decode("utf-8-sig")  # no BOM on a terminal
    return _text_report(snap, t)


def run_evaluate(engine: Engine, args, t: Translator) -> int:
    """`python -m dashboard evaluate --year Y [--scheme S] [--format text|csv|json]`."""
    try:
        scheme = resolve_scheme(engine, args.scheme)
        _check_year(engine, args.year)
        table, result = run_evaluation(engine, args.year, scheme)
    except EvaluationUnavailable as exc:
        print(exc.message(t), file=sys.stderr)
        return EXIT_USAGE
    except SchemeError as exc:  # e.g. an indicator id without a computation
        print(t("pub.err.scheme_unusable", reason=str(exc)), file=sys.stderr)
        return EXIT_USAGE
    snap = build_snapshot(engine, args.year, scheme, result, table)
    sys.stdout.write(render_report(snap, args.format, t).rstrip("\n") + "\n")
    return EXIT_OK
