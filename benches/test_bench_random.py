"""Random draws on torch's stream (fastnn/torch_stream.py, in C in kernels/torch_rng.c): a
dropout mask, where each element takes a 64-bit Mersenne Twister draw as in torch; a small
randn, whose values come from Box-Muller pairs in double precision; a large randn (Box-Muller
runs of 16 floats); and the randperm of 60000 a shuffling DataLoader makes each epoch. The
backends share this path, so only the compiled one is timed, beside torch."""
import pytest

from conftest import record

DRAWS = {
    "dropout(p=0.5) of a 256x256 tensor": (lambda lib: lib.ones(256, 256),
                                           lambda lib, x: lib.nn.functional.dropout(x, 0.5)),
    "randn(15)": (lambda lib: None, lambda lib, x: lib.randn(15)),
    "randn(100000)": (lambda lib: None, lambda lib, x: lib.randn(100000)),
    "randperm(60000)": (lambda lib: None, lambda lib, x: lib.randperm(60000)),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_random_draws(benchmark, threads, contender, name):
    if contender != "torch" and contender != "fastnn-cython":
        pytest.skip("torch's draws: the same Python path for every fastnn backend, none in NumPy")
    lib = __import__("torch" if contender == "torch" else "fastnn")
    make, draw = DRAWS[name]
    x = make(lib)
    record(benchmark, name, contender, threads)
    benchmark(draw, lib, x)
