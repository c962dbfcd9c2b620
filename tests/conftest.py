import pytest
import streamlit as st

from models.db import dispose_shared_engines, init_store, make_engine
from tests.stores import BACKENDS, store_url


@pytest.fixture(params=BACKENDS)
def backend(request):
    """The store backend under test: 'sqlite', and 'postgresql' when TEST_DATABASE_URL is set."""
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    """URL of a fresh, empty store (schema not yet created) on each backend."""
    with store_url(backend, tmp_path) as url:
        yield url
        release_store_connections()


def release_store_connections() -> None:
    """Close the connections the app under test opened to this store (AppTest runs the app in
    this process, and its cached engine would outlive the test) before the store is dropped."""
    st.cache_resource.clear()
    st.cache_data.clear()
    dispose_shared_engines()


@pytest.fixture
def engine(db_url):
    """A fresh store with schema and reference data, on each backend."""
    eng = make_engine(db_url)
    init_store(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def run_cli(db_url, monkeypatch, capsys):
    """`python -m dashboard ARGS` run in this process on the store at db_url; call it with the
    arguments, get (exit code, stdout, stderr)."""
    from dashboard.__main__ import main

    monkeypatch.setenv("DATABASE_URL", db_url)
    dispose_shared_engines()  # get_engine() caches the engine of the first DATABASE_URL it saw

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    dispose_shared_engines()
