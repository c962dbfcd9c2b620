"""Fresh, isolated stores for tests: SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.

Each PostgreSQL store lives in its own schema (selected through the connection's search_path),
so tests never see each other's rows and can run against one shared database.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

from sqlalchemy import create_engine, text

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def _pg_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@contextmanager
def store_url(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Yield a database URL for an empty store of `backend`; drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / ('store-' + uuid.uuid4().hex[:8] + '.sqlite')}"
        return
    base = _pg_url()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote('-csearch_path=' + schema)}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
