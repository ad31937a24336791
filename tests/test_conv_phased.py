"""Strided convolutions run as stride-1 ones on the input's phases (kernels/conv_phased.c,
issue 12): every pass against the NumPy reference on each instruction set and thread count,
which shapes take the method, and DCGAN's layers against PyTorch."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import _kernels, backend
from fastnn.ops.conv import conv_shape
from conftest import HAS_TORCH, requires_torch

if HAS_TORCH:
    import torch

ISAS = [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)]

# n, cin, cout, groups, (h, w), (kh, kw), (sh, sw), (ph, pw), relu
CASES = [
    (2, 8, 6, 1, (9, 9), (4, 4), (2, 2), (1, 1), False),      # odd input, DCGAN's filter
    (3, 16, 32, 1, (16, 16), (4, 4), (2, 2), (1, 1), True),   # fused ReLU masks both grads
    (2, 12, 8, 2, (11, 7), (4, 2), (2, 2), (0, 1), False),    # groups, unequal sides
    (1, 10, 16, 1, (10, 10), (6, 6), (3, 3), (2, 1), False),  # stride 3, uneven padding
    (4, 8, 16, 1, (8, 8), (2, 2), (2, 2), (0, 0), True),      # 2x2 stride 2: one tap a phase
    (2, 4, 8, 1, (13, 13), (6, 6), (2, 2), (3, 3), False),    # 3x3 phase filters (Winograd)
    (1, 3, 5, 1, (5, 6), (4, 6), (2, 3), (2, 0), False),      # padding past the last window
    (1, 2, 3, 1, (1, 1), (2, 2), (2, 2), (1, 1), False),      # one pixel, all padding around
    (1, 3, 5, 1, (9, 70), (4, 4), (2, 2), (1, 1), True),      # 36-wide phases: 16 at a time
]


def _passes(x, w, b, gy, shape, relu, name, y_mask=None):
    out = (x.shape[0], w.shape[0], shape[5], shape[6])
    y = np.empty(out, np.float32)
    backend.conv2d_forward(x, w, b, y, shape, relu=relu, backend=name)
    gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    backend.conv2d_backward(x, w, gy, gx, gw, gb, shape, y_mask, backend=name)
    return y, gx, gw, gb


def _compiled_and_reference(x, w, b, gy, shape, relu, counter):
    """Every pass on the compiled backend and on the reference, and how many times the kernel
    `counter` counts ran. Both backwards mask gy by the reference's ReLU output (a
    pre-activation near 0 may round to either side)."""
    want = _passes(x, w, b, gy, shape, relu, "numpy")
    before = _kernels.call_counts()[counter]
    got = _passes(x, w, b, gy, shape, relu, "cython", want[0] if relu else None)
    ran = _kernels.call_counts()[counter] - before
    if relu:
        want = _passes(x, w, b, gy, shape, relu, "numpy", want[0])
    return got, want, ran


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", CASES)
def test_every_pass_matches_the_reference(isa, threads, case):
    n, cin, cout, groups, hw, k, stride, pad, relu = case
    rng = np.random.default_rng(sum(hw) + cin)
    x = rng.standard_normal((n, cin) + hw).astype(np.float32)
    w = (rng.standard_normal((cout, cin // groups) + k) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    shape = conv_shape(x, w, stride, pad, (1, 1), groups)
    gy = rng.standard_normal((n, cout, shape[5], shape[6])).astype(np.float32)
    previous = (_kernels.isa_active(), _kernels.conv_implicit_mode("always"),
                fastnn.get_num_threads())
    try:
        _kernels.isa_force(isa)
        fastnn.set_num_threads(threads)
        got, want, ran = _compiled_and_reference(x, w, b, gy, shape, relu, "conv2d_phased")
    finally:
        _kernels.isa_force(previous[0])
        _kernels.conv_implicit_mode(previous[1])
        fastnn.set_num_threads(previous[2])
    assert ran == 3  # forward, input gradient, weight gradient
    for g, wnt, what in zip(got, want, ("output", "input grad", "weight grad", "bias grad")):
        np.testing.assert_allclose(g, wnt, rtol=1e-4, atol=2e-4, err_msg=what)


@pytest.mark.parametrize("shape,runs", [
    ((2, 64, 32, 32, 128, 4, 2, 1), 3),   # DCGAN's second discriminator layer: 256 pixels
    ((2, 128, 16, 16, 256, 4, 2, 1), 1),  # 64 pixels: the forward only
    ((2, 256, 8, 8, 512, 4, 2, 1), 0),    # 16 pixels: im2col's 8 images a product win
    ((2, 64, 32, 32, 128, 3, 2, 1), 0),   # 3x3 stride 2: phases would need zero taps
    ((2, 64, 32, 32, 128, 4, 1, 1), 0),   # stride 1: the implicit GEMM itself
    ((0, 64, 32, 32, 128, 4, 2, 1), 0),   # an empty batch
])
def test_which_layers_take_the_phases(shape, runs):
    n, c, h, w, oc, k, s, p = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = (rng.standard_normal((oc, c, k, k)) * 0.05).astype(np.float32)
    b = np.zeros(oc, np.float32)
    cs = conv_shape(x, wt, (s, s), (p, p), (1, 1), 1)
    gy = rng.standard_normal((n, oc, cs[5], cs[6])).astype(np.float32)
    assert _kernels.conv_implicit_mode() == "auto"
    before = _kernels.call_counts()["conv2d_phased"]
    got = _passes(x, wt, b, gy, cs, False, "cython")
    assert _kernels.call_counts()["conv2d_phased"] - before == runs
    if n and runs:
        want = _passes(x, wt, b, gy, cs, False, "numpy")
        for g, wnt in zip(got, want):
            np.testing.assert_allclose(g, wnt, rtol=1e-4, atol=1e-3)


def test_nonfinite_inputs_spread_as_in_the_reference():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 16, 16, 16)).astype(np.float32)
    x[1, 3, 5, 7] = np.nan
    x[0, 0, 0, 0] = np.inf
    w = (rng.standard_normal((8, 16, 4, 4)) * 0.1).astype(np.float32)
    b = np.zeros(8, np.float32)
    cs = conv_shape(x, w, (2, 2), (1, 1), (1, 1), 1)
    gy = rng.standard_normal((2, 8, cs[5], cs[6])).astype(np.float32)
    got = _passes(x, w, b, gy, cs, False, "cython")
    want = _passes(x, w, b, gy, cs, False, "numpy")
    for g, wnt in zip(got, want):
        np.testing.assert_array_equal(np.isnan(g), np.isnan(wnt))
        finite = np.isfinite(wnt)
        np.testing.assert_allclose(g[finite], wnt[finite], rtol=1e-4, atol=1e-3)


@requires_torch
@pytest.mark.parametrize("threads", [1, 2])
def test_dcgan_layers_match_torch(threads):
    """A discriminator's Conv2d(64, 128, 4, 2, 1) and a generator's ConvTranspose2d(128, 64, 4,
    2, 1), whose passes are the same strided convolution's, forward and backward."""
    rng = np.random.default_rng(4)
    previous = fastnn.get_num_threads()
    fastnn.set_num_threads(threads)
    try:
        for transposed in (False, True):
            x = rng.standard_normal((3, 64, 32, 32) if not transposed else (3, 128, 16, 16))
            x = x.astype(np.float32)
            w = (rng.standard_normal((128, 64, 4, 4)) * 0.05).astype(np.float32)
            b = rng.standard_normal(64 if transposed else 128).astype(np.float32)
            results = []
            before = _kernels.call_counts()["conv2d_phased"]
            for lib, fn in ((fastnn, F.conv_transpose2d if transposed else F.conv2d),
                            (torch, torch.nn.functional.conv_transpose2d if transposed
                             else torch.nn.functional.conv2d)):
                tx, tw, tb = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
                out = fn(tx, tw, tb, stride=2, padding=1)
                g = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(np.float32)
                (out * lib.tensor(g)).sum().backward()
                results.append([out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(),
                                tb.grad.numpy()])
            assert _kernels.call_counts()["conv2d_phased"] - before == 3
            for got, want in zip(*results):
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)
    finally:
        fastnn.set_num_threads(previous)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n,cin,cout,groups,hw,k,pad,relu", [
    (20, 8, 6, 1, (5, 5), 3, 1, False),   # padded copies, several images to a part
    (37, 4, 8, 2, (4, 3), 2, 0, True),    # read in place, groups, ReLU mask, uneven runs
    (9, 16, 16, 1, (12, 12), 3, 1, False),  # 144 pixels: 7 images fill a 1024-pixel block
])
def test_weight_gradient_reduces_images_in_groups(threads, n, cin, cout, groups, hw, k, pad,
                                                   relu):
    """The implicit weight gradient puts several images' pixels in one reduction block
    (issue 12); every grouping against the reference, stride 1."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, cin) + hw).astype(np.float32)
    w = (rng.standard_normal((cout, cin // groups, k, k)) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (pad, pad), (1, 1), groups)
    gy = rng.standard_normal((n, cout, shape[5], shape[6])).astype(np.float32)
    previous = (_kernels.conv_implicit_mode("always"), fastnn.get_num_threads(),
                _kernels.conv_winograd(False))
    try:
        fastnn.set_num_threads(threads)
        got, want, ran = _compiled_and_reference(x, w, b, gy, shape, relu, "conv2d_implicit")
        assert ran >= 2
    finally:
        _kernels.conv_implicit_mode(previous[0])
        fastnn.set_num_threads(previous[1])
        _kernels.conv_winograd(previous[2])
    for g, wnt, what in zip(got, want, ("output", "input grad", "weight grad", "bias grad")):
        np.testing.assert_allclose(g, wnt, rtol=1e-4, atol=3e-4, err_msg=what)


def test_weight_gradient_bits_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((19, 32, 16, 16)).astype(np.float32)
    w = (rng.standard_normal((24, 32, 4, 4)) * 0.1).astype(np.float32)
    b = np.zeros(24, np.float32)
    shape = conv_shape(x, w, (2, 2), (1, 1), (1, 1), 1)
    gy = rng.standard_normal((19, 24, shape[5], shape[6])).astype(np.float32)
    assert_same_bits_on_one_and_two_threads(x, w, b, gy, shape)


def assert_same_bits_on_one_and_two_threads(x, w, b, gy, shape):
    """Every pass on the compiled backend at 1 and at 2 threads gives the same bits."""
    previous = fastnn.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            results.append(_passes(x, w, b, gy, shape, False, "cython"))
    finally:
        fastnn.set_num_threads(previous)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)
