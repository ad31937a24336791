"""The Numba backend's register-tiled GEMM (numba_gemm.py) and the vector intrinsics under it
(numba_simd.py), against a float64 product: every operand layout the driver tells apart, tile
edges on both sides, the epilogue, and the thread splits."""
import numpy as np
import pytest

from fastnn.backend import numba_gemm
from fastnn.backend.numba_simd import transpose16
from test_gemm_small import expected  # the float64 product with the GEMM's epilogue

pytestmark = pytest.mark.filterwarnings("ignore::numba.NumbaPerformanceWarning")

RNG = np.random.default_rng(7)


def _random(*shape):
    return RNG.standard_normal(shape, dtype=np.float32)


# Each gives a (k, n) B with another layout: rows contiguous (read in place), columns
# contiguous (x @ W^T: packed), neither (copied), rows reversed (a negative row stride).
B_LAYOUTS = {
    "rows": lambda k, n: _random(k, n),
    "transposed": lambda k, n: _random(n, k).T,
    "strided": lambda k, n: _random(k, 2 * n)[:, ::2],
    "reversed rows": lambda k, n: _random(k, n)[::-1],
}
A_LAYOUTS = {
    "rows": lambda m, k: _random(m, k),
    "transposed": lambda m, k: _random(k, m).T,
    "strided": lambda m, k: _random(m, 3 * k)[:, ::3],
}
# Sizes around the 8x32 tile and the 16-wide pack blocks, one, zero and the MLP's own.
SHAPES = [(1, 1, 1), (7, 5, 3), (8, 16, 32), (9, 17, 33), (31, 70, 47), (13, 0, 20), (0, 5, 7),
          (5, 7, 0), (1, 784, 256), (3, 10, 16), (17, 33, 15), (256, 256, 784)]


@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("b_layout", sorted(B_LAYOUTS))
@pytest.mark.parametrize("a_layout", sorted(A_LAYOUTS))
def test_gemm_matches_float64_on_every_layout(m, k, n, a_layout, b_layout):
    a, b = A_LAYOUTS[a_layout](m, k), B_LAYOUTS[b_layout](k, n)
    for parts in (1, 2, 3):
        for bias in (None, _random(n)):
            for relu in (False, True):
                for accumulate in (False, True):
                    out = _random(m, n)
                    start = out.copy()
                    numba_gemm.gemm(a, b, out, bias, relu, accumulate, parts)
                    np.testing.assert_allclose(
                        out, expected(a, b, start, bias, relu, accumulate),
                        rtol=1e-4, atol=1e-4 * max(1, k) ** 0.5,
                        err_msg=f"parts={parts} bias={bias is not None} relu={relu} "
                                f"accumulate={accumulate}")


def test_gemm_reads_read_only_operands_in_place():
    a, b = _random(20, 40), _random(40, 50)
    a.flags.writeable = b.flags.writeable = False
    out = np.empty((20, 50), np.float32)
    numba_gemm.gemm(a, b, out, None, False, False, 1)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_edge_tiles_store_nothing_past_out():
    # 9x37: the last row block has one live row and the last panel five live columns; the
    # memory right after out (where a tenth row would start) must keep its values
    a, b = _random(9, 11), _random(11, 37)
    backing = np.full(9 * 37 + 8 * 37, 7.0, np.float32)
    out = backing[:9 * 37].reshape(9, 37)
    for accumulate in (False, True):
        numba_gemm.gemm(a, b, out, _random(37), True, accumulate, 1)
        assert np.all(backing[9 * 37:] == 7.0)


def test_relu_epilogue_keeps_nan_and_applies_bias_first():
    a = np.full((3, 4), np.nan, np.float32)
    a[1] = 1.0
    b = np.ones((4, 5), np.float32)
    bias = np.array([-5, -4, -3, 0, 1], np.float32)
    out = np.empty((3, 5), np.float32)
    numba_gemm.gemm(a, b, out, bias, True, False, 1)
    assert np.all(np.isnan(out[0])) and np.all(np.isnan(out[2]))
    np.testing.assert_array_equal(out[1], [0, 0, 1, 4, 5])


def test_transpose16_moves_a_block_through_registers():
    from numba import njit

    @njit
    def move(source, i, j, target, ti, tj):
        transpose16(source, i, j, target, ti, tj)

    source = np.arange(40 * 50, dtype=np.float32).reshape(40, 50)
    target = np.zeros((30, 70), np.float32)
    move(source, 3, 7, target, 2, 5)
    np.testing.assert_array_equal(target[2:18, 5:21], source[3:19, 7:23].T)
    target[2:18, 5:21] = 0
    assert not target.any()
