"""The C random recipes (kernels/torch_rng.c) against their NumPy reference
(fastnn/torch_stream.py with `compiled` off): the same values from the same seed, the stream left
at the same place, and the compiled code shown to have run. Against torch itself:
tests/test_torch_stream.py."""
import numpy as np
import pytest

from fastnn import _kernels, torch_stream
from fastnn.torch_stream import seeded

SIZES = [0, 1, 2, 3, 15, 16, 17, 33, 1000]

# recipe name -> call on a stream; each returns one array
RECIPES = {
    "units float": lambda s, n: s.units(n, np.float32),
    "units double": lambda s, n: s.units(n, np.float64),
    "uniform float": lambda s, n: s.uniform_values((n,), -0.3, 0.7, np.float32),
    "uniform double": lambda s, n: s.uniform_values((n,), -2.0, 5.0, np.float64),
    "uniform half": lambda s, n: s.uniform_values((n,), 0.0, 1.0, np.float16),
    "bernoulli": lambda s, n: s.bernoulli_values((n,), 0.3),
    "bernoulli p=1": lambda s, n: s.bernoulli_values((n,), 1.0),
    "randint": lambda s, n: s.randint_values(-5, 17, (n,)),
    "randint wide": lambda s, n: s.randint_values(0, 2 ** 40, (n,)),
    "randint int64 range": lambda s, n: s.randint_values(-2 ** 63, 2 ** 63 - 1, (n,)),
    "random_ bool": lambda s, n: s.full_range_values((n,), "bool"),
    "random_ uint8": lambda s, n: s.full_range_values((n,), "uint8"),
    "random_ int64": lambda s, n: s.full_range_values((n,), "int64"),
    "random_ float32": lambda s, n: s.full_range_values((n,), "float32"),
    "random_ float64": lambda s, n: s.full_range_values((n,), "float64"),
    "randperm": lambda s, n: s.randperm_values(n),
    "double values": lambda s, n: s.double_values((n,)),
    # rejection samplers, on either side of each recipe's switch (rate 10, count * p 10)
    "poisson": lambda s, n: s.poisson_counts(_cycle([0.0, 0.3, 4.0, 9.99, 10.0, 57.5, 3e4], n)),
    "binomial float": lambda s, n: s.binomial_counts(
        _cycle([0, 3, 10, 40, 100, 1000, 25], n, np.float32),
        _cycle([0.3, 0.5, 0.99, 0.2, 0.75, 0.01, 1.0, 0.0], n, np.float32)),
    "gamma float": lambda s, n: s.gamma_values(_cycle([0.0, 0.1, 0.5, 1.0, 2.5, 80.0], n,
                                                      np.float32)),
    "gamma double": lambda s, n: s.gamma_values(_cycle([0.3, 1.0, 7.0, 1e-3], n)),
    "dirichlet": lambda s, n: s.dirichlet_values(_cycle([0.3, 1.0, 4.0], 3 * n,
                                                        np.float32).reshape(n, 3)),
    "binomial double": lambda s, n: s.binomial_counts(
        _cycle([0, 3, 10, 40, 100, 1000, 25], n), _cycle([0.3, 0.5, 0.99, 0.2, 0.75, 0.01], n)),
}


def _cycle(values, n, dtype=np.float64):
    return np.resize(np.asarray(values, dtype), n)

# Box-Muller: the C recipes use glibc's log/sin/cos (torch's), the reference NumPy's, which
# differ in the last bit of some values
NORMALS = {
    "normal float": lambda s, n: s.normal_values((n,), 0.0, 1.0, np.float32),
    "normal float scaled": lambda s, n: s.normal_values((n,), 2.0, 3.0, np.float32),
    "normal double": lambda s, n: s.normal_values((n,), 0.0, 1.0, np.float64),
    "normal double scaled": lambda s, n: s.normal_values((n,), -1.0, 0.5, np.float64),
    "double normals": lambda s, n: s.double_normals((n,), 0.5, 2.0),
    "log normals": lambda s, n: s.log_normal_values((n,), 0.5, 0.7),
    "cauchy": lambda s, n: s.cauchy_values((n,), 1.0, 2.0),
    "exponential": lambda s, n: s.exponential_values((n,), 0.7),
}


def run(recipe, seed, n, compiled, monkeypatch):
    monkeypatch.setattr(torch_stream, "compiled", compiled)
    stream = seeded(seed)
    first = recipe(stream, n)
    second = recipe(stream, n)  # in step afterwards, and any kept normal used
    return first, second, stream.state_dict()


@pytest.fixture(params=["bulk", "per draw"])
def draws(request):
    """The C recipes reading NumPy's state in bulk, and drawing through bitgen_t per draw."""
    assert torch_stream.direct_state  # NumPy's layout is the one torch_rng.c reads
    _kernels.rng_set_direct(request.param == "bulk")
    yield request.param
    _kernels.rng_set_direct(True)


@pytest.mark.parametrize("n", SIZES + [624, 625, 1249, 5000])
@pytest.mark.parametrize("name", sorted(RECIPES))
def test_c_recipe_gives_the_reference_values(name, n, draws, monkeypatch):
    calls = _kernels.call_counts()["torch_rng"]
    c = run(RECIPES[name], 7, n, True, monkeypatch)
    assert _kernels.call_counts()["torch_rng"] > calls
    ref = run(RECIPES[name], 7, n, False, monkeypatch)
    for ours, theirs in zip(c[:2], ref[:2]):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    assert c[2] == ref[2]


@pytest.mark.parametrize("n", SIZES + [1023, 1024, 5003])
@pytest.mark.parametrize("name", sorted(NORMALS))
def test_c_normals_agree_with_the_reference(name, n, draws, monkeypatch):
    c = run(NORMALS[name], 11, n, True, monkeypatch)
    ref = run(NORMALS[name], 11, n, False, monkeypatch)
    for ours, theirs in zip(c[:2], ref[:2]):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        tolerance = 1e-6 if ours.dtype == np.float32 else 1e-13
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)
    # the same draws consumed; a kept value equal up to the libm's last bit
    assert (c[2]["key"], c[2]["pos"]) == (ref[2]["key"], ref[2]["pos"])
    if ref[2]["normal_cache"] is None:
        assert c[2]["normal_cache"] is None
    else:
        assert c[2]["normal_cache"] == pytest.approx(ref[2]["normal_cache"], rel=1e-14)


def test_a_kept_normal_survives_a_switch_of_recipes(monkeypatch):
    # the kept value lives on the stream, whichever recipe drew it
    monkeypatch.setattr(torch_stream, "compiled", True)
    stream = seeded(3)
    stream.double_normals((3,), 0.0, 1.0)
    kept = stream.normal_cache
    monkeypatch.setattr(torch_stream, "compiled", False)
    assert stream.double_normals((1,), 0.0, 1.0)[0] == kept


@pytest.mark.parametrize("call, message", [
    (lambda c: _kernels.rng_units(*c, -1, False), "negative number"),
    (lambda c: _kernels.rng_integers(*c, 4, 0, False, 0), "span must be positive"),
    (lambda c: _kernels.rng_normal_fill(*c, 15, 0.0, 1.0, False), "at least 16"),
    (lambda c: _kernels.rng_poisson(*c, np.ones(3, np.float32)), "float64"),
    (lambda c: _kernels.rng_poisson(*c, np.ones((2, 2))), "1-D"),
    (lambda c: _kernels.rng_poisson(*c, np.ones(6)[::2]), "contiguous"),
    (lambda c: _kernels.rng_binomial(*c, np.ones(3), np.ones(2)), "length"),
    (lambda c: _kernels.rng_binomial(*c, np.ones(3), np.ones(3, np.float32)), "one dtype"),
    (lambda c: _kernels.rng_binomial(*c, np.ones(3, np.int64), np.ones(3, np.int64)),
     "float32 or"),
    (lambda c: _kernels.rng_gamma(*c, np.ones(3, np.int32), None), "float32 or float64"),
])
def test_c_recipes_refuse_bad_arguments(call, message):
    stream = seeded(0)
    with pytest.raises(ValueError, match=message):
        call(stream._c())
    assert stream.state_dict() == seeded(0).state_dict()  # nothing drawn


def test_c_recipes_refuse_what_is_not_a_bit_generator():
    lock = seeded(0).bit_generator.lock
    for thing in (3, np.zeros(1).__array_struct__):  # an int; a capsule of another kind
        with pytest.raises((TypeError, ValueError)):
            _kernels.rng_units(thing, lock, 3, False)


def test_threads_drawing_from_one_stream_never_interleave_a_draw():
    # NumPy's own methods release the GIL holding the generator's lock, the C recipes hold the
    # GIL and the lock: however two threads interleave, the stream ends where the same draws
    # made one after another leave it
    import threading

    stream, rounds = seeded(5), 40

    def numpy_draws():
        for _ in range(rounds):
            stream.random(20000)  # two 32-bit draws a double

    def c_draws():
        for _ in range(rounds):
            stream.units(30000, np.float32)
            stream.randperm_values(500)

    threads = [threading.Thread(target=f) for f in (numpy_draws, c_draws)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = seeded(5)
    expected.bit_generator.random_raw(rounds * (2 * 20000 + 30000 + 499))
    assert stream.state_dict() == expected.state_dict()


@pytest.mark.parametrize("n", [1024, 2049, 2063, 5003, 40000])
def test_long_float_normals_from_de_interleaved_halves_are_the_references(n, monkeypatch):
    # above the scalar fill's size the halves of each run are drawn apart in C
    # (rng_normal_planes) and put back (interleave_runs): the reference's bits
    calls = _kernels.call_counts()["torch_rng"]
    c = run(NORMALS["normal float scaled"], 4, n, True, monkeypatch)
    assert _kernels.call_counts()["torch_rng"] > calls
    ref = run(NORMALS["normal float scaled"], 4, n, False, monkeypatch)
    for ours, theirs in zip(c[:2], ref[:2]):
        np.testing.assert_array_equal(ours, theirs)
    assert c[2] == ref[2]


def test_planes_and_interleave_refuse_bad_arguments():
    stream = seeded(0)
    with pytest.raises(ValueError, match="bad runs"):
        _kernels.rng_normal_planes(*stream._c(), 2, 16)
    with pytest.raises(ValueError, match="multiple of 8"):
        _kernels.interleave_runs(np.zeros(8, np.float32), np.zeros(16, np.float32))
    assert stream.state_dict() == seeded(0).state_dict()
