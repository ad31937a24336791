import importlib.util

import numpy as np
import pytest

import fastnn
from fastnn import backend

HAS_TORCH = importlib.util.find_spec("torch") is not None
requires_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")

BACKENDS = backend.names()


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    """Each backend in turn, made active for the test and restored after."""
    previous = backend.current()
    backend.use(request.param)
    yield request.param
    backend.use(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def _seed_and_threads():
    fastnn.manual_seed(0)
    threads = fastnn.get_num_threads()
    yield
    fastnn.set_num_threads(threads)
