"""The implicit GEMM's tap-by-tap passes (kernels/conv_implicit.c, issue 12): deep stride-1
convolutions, and DCGAN's 4x4 stride-2 layers through their phases, read the image in place
one filter tap at a time instead of packing it. Every pass against the NumPy reference on each
instruction set and thread count, which shapes take the method, and the weight gradient's bits
on any thread count."""
import numpy as np
import pytest

import fastnn
from fastnn import _kernels
from fastnn.ops.conv import conv_shape
from test_conv_phased import (ISAS, _compiled_and_reference, _passes,
                               assert_same_bits_on_one_and_two_threads)

# n, cin, cout, groups, (h, w), k, stride, padding, dilation, relu,
# (forward, weight gradient) tap by tap on AVX-512
CASES = [
    # 260 channels (a last partial tile of 12 in the weight gradient), 90 outputs (a partial
    # panel of 32), 323 extended pixels for 306 outputs
    ((1, 260, 90, 1, (19, 18), 2, 1, 0, 1, True), (1, 1)),
    # padding and dilation: the padded copy read tap by tap; 228096 sums: the weight gradient
    # packs
    ((1, 256, 96, 1, (10, 40), 3, 1, 1, 2, False), (1, 0)),
    # groups of 256 channels, ReLU masks on both gradients (a call counts once)
    ((2, 512, 128, 2, (18, 18), 2, 1, 0, 1, True), (1, 1)),
    # a 4x4 stride-2 layer from 64 channels: 256 phase channels, split image by image; with 40
    # outputs the forward's tiles pad less packed
    ((2, 64, 40, 1, (32, 32), 4, 2, 1, 1, False), (0, 1)),
    # odd sizes through phases: 260 phase channels on 16 x 15, 210 pixels (the weight gradient
    # keeps im2col below 256)
    ((1, 65, 128, 1, (31, 29), 4, 2, 1, 1, True), (1, 0)),
    # 255 channels: packed
    ((1, 255, 90, 1, (19, 18), 2, 1, 0, 1, False), (0, 0)),
]


def _case_arrays(case):
    n, cin, cout, groups, hw, k, stride, pad, dil, relu = case
    rng = np.random.default_rng(cin + cout)
    x = rng.standard_normal((n, cin) + hw).astype(np.float32)
    w = (rng.standard_normal((cout, cin // groups, k, k)) * 0.05).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    shape = conv_shape(x, w, (stride, stride), (pad, pad), (dil, dil), groups)
    gy = rng.standard_normal((n, cout, shape[5], shape[6])).astype(np.float32)
    return x, w, b, gy, shape


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case,runs", CASES)
def test_every_pass_matches_the_reference(isa, threads, case, runs):
    x, w, b, gy, shape = _case_arrays(case)
    previous = (_kernels.isa_active(), _kernels.conv_implicit_mode("always"),
                fastnn.get_num_threads(), _kernels.conv_winograd(False))
    try:
        _kernels.isa_force(isa)
        fastnn.set_num_threads(threads)
        got, want, ran = _compiled_and_reference(x, w, b, gy, shape, case[-1], "conv2d_by_taps")
    finally:
        _kernels.isa_force(previous[0])
        _kernels.conv_implicit_mode(previous[1])
        fastnn.set_num_threads(previous[2])
        _kernels.conv_winograd(previous[3])
    # the strided micro-kernel that reads the image in place is AVX-512's
    assert ran == (sum(runs) if isa == "avx512" else 0)
    for g, wnt, what in zip(got, want, ("output", "input grad", "weight grad", "bias grad")):
        np.testing.assert_allclose(g, wnt, rtol=1e-4, atol=2e-4, err_msg=what)


@pytest.mark.skipif(not _kernels.isa_supported("avx512"), reason="tap by tap is AVX-512's")
def test_dcgan_layers_take_it_in_the_default_mode():
    """With the default rules DCGAN's first 4x4 stride-2 layer runs its forward and weight
    gradient tap by tap; the next one (64 pixels) its forward only; the input gradient (128
    channels of gy) packs."""
    assert _kernels.conv_implicit_mode() == "auto"
    for (n, c, size, oc), expected in (((2, 64, 32, 128), 2), ((2, 128, 16, 256), 1)):
        x, w, b, gy, shape = _case_arrays((n, c, oc, 1, (size, size), 4, 2, 1, 1, False))
        before = _kernels.call_counts()["conv2d_by_taps"]
        got = _passes(x, w, b, gy, shape, False, "cython")
        assert _kernels.call_counts()["conv2d_by_taps"] - before == expected
        want = _passes(x, w, b, gy, shape, False, "numpy")
        for g, wnt in zip(got, want):
            np.testing.assert_allclose(g, wnt, rtol=1e-4, atol=2e-4)


def test_weight_gradient_bits_do_not_depend_on_the_thread_count():
    x, w, b, gy, shape = _case_arrays((19, 64, 40, 1, (32, 32), 4, 2, 1, 1, False))
    assert_same_bits_on_one_and_two_threads(x, w, b, gy, shape)
