import pytest

from models.db import init_store, make_engine
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


@pytest.fixture
def engine(db_url):
    """A fresh store with schema and reference data, on each backend."""
    eng = make_engine(db_url)
    init_store(eng)
    yield eng
    eng.dispose()
