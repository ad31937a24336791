"""Conv2d, pooling and BatchNorm2d against PyTorch on random configurations (hypothesis), and
against finite differences; PyTorch's error messages for impossible shapes."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import fastnn
import fastnn.nn.functional as F
from fastnn import _kernels, backend, nn
from conftest import BACKENDS, HAS_TORCH, requires_torch
from gradcheck import check_op

if HAS_TORCH:
    import torch
    import torch.nn.functional as TF


def _grads(fn, x, *params, seed=0):
    """Forward, then backward of a random projection; returns (output, grads)."""
    out = fn(x, *params)
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(type(out)(g) if not HAS_TORCH or not isinstance(out, torch.Tensor)
                 else torch.tensor(g))
    return out.detach().numpy(), [p.grad.numpy() for p in (x, *params) if p is not None]


conv_cases = st.fixed_dictionaries({
    "n": st.integers(1, 3), "groups": st.sampled_from([1, 2]), "cpg": st.integers(1, 3),
    "ocpg": st.integers(1, 3), "h": st.integers(1, 12), "w": st.integers(1, 12),
    "kh": st.integers(1, 4), "kw": st.integers(1, 4), "stride": st.integers(1, 3),
    "padding": st.integers(0, 2), "dilation": st.integers(1, 2), "bias": st.booleans(),
    "seed": st.integers(0, 99)})


@requires_torch
@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(case=conv_cases)
def test_conv2d_matches_torch(name, case):
    c = case
    cin, cout = c["cpg"] * c["groups"], c["ocpg"] * c["groups"]
    eh, ew = c["dilation"] * (c["kh"] - 1) + 1, c["dilation"] * (c["kw"] - 1) + 1
    assume(c["h"] + 2 * c["padding"] >= eh and c["w"] + 2 * c["padding"] >= ew)
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], cin, c["h"], c["w"])).astype(np.float32)
    w = rng.standard_normal((cout, c["cpg"], c["kh"], c["kw"])).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32) if c["bias"] else None
    kw = dict(stride=c["stride"], padding=c["padding"], dilation=c["dilation"],
              groups=c["groups"])
    previous = backend.current()
    backend.use(name)
    try:
        ours = _grads(lambda x, w, *b: F.conv2d(x, w, *(b or [None]), **kw),
                      *[fastnn.tensor(a, requires_grad=True) for a in (x, w) + ((b,) if c["bias"] else ())])
    finally:
        backend.use(previous)
    theirs = _grads(lambda x, w, *b: TF.conv2d(x, w, *(b or [None]), **kw),
                    *[torch.tensor(a, requires_grad=True) for a in (x, w) + ((b,) if c["bias"] else ())])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-4)
    for got, want in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


pool_cases = st.fixed_dictionaries({
    "n": st.integers(1, 2), "c": st.integers(1, 3), "h": st.integers(1, 11),
    "w": st.integers(1, 11), "k": st.integers(1, 4), "stride": st.integers(1, 3),
    "padding": st.integers(0, 2), "dilation": st.integers(1, 2), "ceil_mode": st.booleans(),
    "seed": st.integers(0, 99)})


def _valid_pool(c, dilation):
    """PyTorch accepts the configuration and every window has a tap inside the input (for a
    window entirely in the padding PyTorch returns an index outside the plane; fastnn returns
    -1 and drops its gradient, so the two are not compared there)."""
    if c["padding"] > c["k"] // 2:
        return False
    from fastnn.ops.pool import pooled_size
    for size in (c["h"], c["w"]):
        out = pooled_size(size, c["k"], c["stride"], c["padding"], dilation, c["ceil_mode"])
        if out < 1:
            return False
        for o in range(out):
            taps = [o * c["stride"] - c["padding"] + i * dilation for i in range(c["k"])]
            if not any(0 <= t < size for t in taps):
                return False
    return True


@requires_torch
@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(case=pool_cases)
def test_max_pool2d_matches_torch(name, case):
    c = case
    assume(_valid_pool(c, c["dilation"]))
    x = np.random.default_rng(c["seed"]).standard_normal((c["n"], c["c"], c["h"], c["w"])).astype(np.float32)
    kw = dict(kernel_size=c["k"], stride=c["stride"], padding=c["padding"],
              dilation=c["dilation"], ceil_mode=c["ceil_mode"])
    previous = backend.current()
    backend.use(name)
    try:
        fx = fastnn.tensor(x, requires_grad=True)
        out, idx = F.max_pool2d(fx, return_indices=True, **kw)
        out.sum().backward()
    finally:
        backend.use(previous)
    tx = torch.tensor(x, requires_grad=True)
    tout, tidx = TF.max_pool2d(tx, return_indices=True, **kw)
    tout.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy())


@requires_torch
@pytest.mark.parametrize("name", BACKENDS)
@settings(max_examples=40, deadline=None)
@given(case=pool_cases, count_include_pad=st.booleans())
def test_avg_pool2d_matches_torch(name, case, count_include_pad):
    c = case
    assume(c["padding"] <= c["k"] // 2 and _valid_pool(c, 1))
    x = np.random.default_rng(c["seed"]).standard_normal((c["n"], c["c"], c["h"], c["w"])).astype(np.float32)
    kw = dict(kernel_size=c["k"], stride=c["stride"], padding=c["padding"],
              ceil_mode=c["ceil_mode"], count_include_pad=count_include_pad)
    previous = backend.current()
    backend.use(name)
    try:
        fx = fastnn.tensor(x, requires_grad=True)
        out = F.avg_pool2d(fx, **kw)
        out.sum().backward()
    finally:
        backend.use(previous)
    tx = torch.tensor(x, requires_grad=True)
    tout = TF.avg_pool2d(tx, **kw)
    tout.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("size,out", [((7, 7), 1), ((10, 9), (3, 4)), ((5, 5), (5, 5)),
                                      ((6, 8), (4, None))])
def test_adaptive_avg_pool2d_matches_torch(size, out):
    x = np.random.default_rng(0).standard_normal((2, 3) + size).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = F.adaptive_avg_pool2d(fx, out), TF.adaptive_avg_pool2d(tx, out)
    (a * a).sum().backward()
    (b * b).sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("shape,channels_last", [((64, 100, 498), False), ((4, 8, 33, 35), False),
                                                 ((4, 8, 33, 35), True), ((2, 3, 1, 1), False)])
def test_global_average_pooling_matches_torch(shape, channels_last):
    """Output size 1 (d2l's TextCNN head, ResNet's): the planes' means on the GEMM kernel, the
    gradient spread in one pass; values and gradients as torch's, channels_last inputs too."""
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32) + 3
    fx, tx = fastnn.tensor(x), torch.tensor(x)
    if channels_last:
        fx, tx = fx.to(memory_format=fastnn.channels_last), tx.to(memory_format=torch.channels_last)
    fx.requires_grad_(), tx.requires_grad_()
    pool = F.adaptive_avg_pool1d if len(shape) == 3 else F.adaptive_avg_pool2d
    tpool = TF.adaptive_avg_pool1d if len(shape) == 3 else TF.adaptive_avg_pool2d
    a, b = pool(fx, 1), tpool(tx, 1)
    g = np.random.default_rng(2).standard_normal(tuple(b.shape)).astype(np.float32)
    (a * fastnn.tensor(g)).sum().backward()
    (b * torch.tensor(g)).sum().backward()
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


@requires_torch
@pytest.mark.parametrize("name", BACKENDS)
def test_batchnorm2d_train_eval_and_running_stats_match_torch(name, monkeypatch):
    previous = backend.current()
    backend.use(name)
    try:
        _batchnorm_matches_torch()
    finally:
        backend.use(previous)


def _batchnorm_matches_torch():
    rng = np.random.default_rng(0)
    ours, theirs = nn.BatchNorm2d(3), torch.nn.BatchNorm2d(3)
    for step in range(3):
        x = (rng.standard_normal((4, 3, 5, 5)) * 2 + 1).astype(np.float32)
        fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        a, b = ours(fx), theirs(tx)
        g = rng.standard_normal(a.shape).astype(np.float32)
        a.backward(fastnn.tensor(g))
        b.backward(torch.tensor(g))
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), theirs.state_dict()[key].numpy(),
                                   rtol=1e-5, atol=1e-6)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.eval()
    theirs.eval()
    x = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fn,inputs", [
    (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
     [np.random.default_rng(1).standard_normal((1, 2, 5, 5)),
      np.random.default_rng(2).standard_normal((3, 2, 3, 3)),
      np.random.default_rng(3).standard_normal(3)]),
    (lambda x: F.avg_pool2d(x, 2, padding=1, count_include_pad=False),
     [np.random.default_rng(4).standard_normal((1, 2, 5, 4))]),
    (lambda x: F.max_pool2d(x, 2) * 1,
     [np.random.default_rng(5).permutation(32).reshape(1, 2, 4, 4) * 0.1]),
])
def test_conv_and_pool_gradients_match_finite_differences(fn, inputs):
    check_op(fn, inputs)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(padding="same"), dict(padding="valid"),
                                    dict(padding="same", kernel_size=4),
                                    dict(padding=1, padding_mode="reflect"),
                                    dict(padding=2, padding_mode="replicate"),
                                    dict(padding=1, padding_mode="circular")])
def test_conv2d_padding_modes_match_torch(kwargs):
    kwargs = {"kernel_size": 3, **kwargs}
    fastnn.manual_seed(0)
    ours = nn.Conv2d(2, 3, **kwargs)
    theirs = torch.nn.Conv2d(2, 3, **kwargs)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 6)).astype(np.float32)
    fx, tx = fastnn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    a, b = ours(fx), theirs(tx)
    a.sum().backward()
    b.sum().backward()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fx.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert repr(ours) == repr(theirs)


def test_unbatched_input_and_output_size_formula():
    conv = nn.Conv2d(1, 4, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2))
    out = conv(fastnn.randn(1, 28, 28))
    # floor((I + 2P - D(K - 1) - 1) / S) + 1
    assert out.shape == (4, (28 + 2 - 2 - 1) // 2 + 1, (28 + 4 - 8 - 1) // 1 + 1)
    assert nn.MaxPool2d(3, ceil_mode=True)(fastnn.randn(1, 1, 7, 7)).shape == (1, 1, 3, 3)


def test_conv_and_pool_errors_read_like_pytorch():
    with pytest.raises(RuntimeError, match=r"expected input\[2, 3, 8, 8\] to have 1 channels, but got 3"):
        nn.Conv2d(1, 4, 3)(fastnn.randn(2, 3, 8, 8))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        nn.Conv2d(1, 1, 5)(fastnn.randn(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="Output size is too small"):
        nn.MaxPool2d(2)(fastnn.randn(1, 1, 1, 1))
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half"):
        nn.MaxPool2d(2, padding=2)(fastnn.randn(1, 1, 8, 8))
    with pytest.raises(RuntimeError, match="Expected 3D .* or 4D"):
        nn.Conv2d(1, 1, 3)(fastnn.randn(8, 8))
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")


def test_compiled_conv_and_pool_kernels_ran():
    backend.use("cython")
    before = _kernels.call_counts()
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.AvgPool2d(2))
    net(fastnn.randn(2, 1, 10, 10)).sum().backward()
    after = _kernels.call_counts()
    assert after["conv2d"] - before["conv2d"] == 2  # forward and backward
    assert after["pool2d"] - before["pool2d"] == 4
    bn = nn.BatchNorm2d(2)
    bn(fastnn.randn(3, 2, 4, 4, requires_grad=True)).sum().backward()
    assert _kernels.call_counts()["batchnorm"] - after["batchnorm"] == 2


@pytest.mark.parametrize("threads", [1, 2])
def test_conv_is_reproducible_for_a_thread_count(threads):
    fastnn.set_num_threads(threads)
    x = fastnn.randn(5, 3, 9, 9)
    conv = nn.Conv2d(3, 4, 3)
    runs = []
    for _ in range(2):
        conv.zero_grad()
        out = conv(x)
        out.sum().backward()
        runs.append((out.detach().numpy().copy(), conv.weight.grad.numpy().copy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("size", [(2, 3, 28, 28), (1, 2, 14, 14), (1, 1, 2, 2), (2, 1, 7, 9),
                                  (1, 1, 66, 70)])
def test_maxpool_2x2_and_fused_conv_relu_each_instruction_set(isa, size):
    """The 2x2/stride-2 pooling fast path (vectorised on AVX-512, with masked partial rows) and
    the conv+ReLU epilogue against the NumPy reference, with ties and NaNs in the data."""
    rng = np.random.default_rng(0)
    x = rng.integers(-3, 3, size).astype(np.float32)  # many ties
    x.reshape(-1)[::17] = np.nan
    from fastnn.ops.pool import pool_shape
    shape = pool_shape(x, (2, 2), (2, 2), (0, 0), (1, 1), False, "max_pool2d")
    out = {}
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        for name in ("cython", "numpy"):
            y = np.empty(shape[:2] + shape[5:7], np.float32)
            idx = np.empty(y.shape, np.int64)
            backend.maxpool2d_forward(x, y, idx, shape, backend=name)
            out[name] = (y, idx)
        w = rng.standard_normal((4, size[1], 3, 3)).astype(np.float32)
        b = rng.standard_normal(4).astype(np.float32)
        xc = np.nan_to_num(x)
        from fastnn.ops.conv import conv_shape
        cshape = conv_shape(xc, w, (1, 1), (1, 1), (1, 1), 1)
        convs = {}
        for name in ("cython", "numpy"):
            y = np.empty((size[0], 4) + cshape[5:7], np.float32)
            backend.conv2d_forward(xc, w, b, y, cshape, relu=True, backend=name)
            convs[name] = y
    finally:
        _kernels.isa_force(previous)
    np.testing.assert_array_equal(out["cython"][0], out["numpy"][0])
    np.testing.assert_array_equal(out["cython"][1], out["numpy"][1])
    np.testing.assert_allclose(convs["cython"], convs["numpy"], rtol=1e-5, atol=1e-5)
    assert (convs["cython"] >= 0).all()


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("size", [(2, 3, 28, 28), (1, 2, 14, 15), (1, 1, 2, 2), (2, 1, 7, 9),
                                  (1, 1, 66, 70), (3, 2, 3, 6)])
def test_maxpool_window_codes_match_the_indices(isa, size):
    """maxpool2x2_forward/backward (one-byte window codes, used without return_indices) on every
    backend and instruction set: the same maxima as maxpool2d_forward, codes that name the same
    tap as its indices (ties and NaNs in the data, odd sizes, rows of 1-35 windows), and the
    same input gradient, with zeros in the odd last row and column no window covers. A code
    above 3 sends its gradient nowhere."""
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 3, size).astype(np.float32)
    x.reshape(-1)[::13] = np.nan
    from fastnn.ops.pool import pool_shape
    shape = pool_shape(x, (2, 2), (2, 2), (0, 0), (1, 1), False, "max_pool2d")
    n, c, oh, ow = shape[:2] + shape[5:7]
    y_ref, idx = np.empty((n, c, oh, ow), np.float32), np.empty((n, c, oh, ow), np.int64)
    backend.maxpool2d_forward(x, y_ref, idx, shape, backend="numpy")
    rows, cols = np.divmod(idx, size[3])
    want_codes = (rows - 2 * np.arange(oh)[:, None]) * 2 + cols - 2 * np.arange(ow)
    gy = rng.standard_normal((n, c, oh, ow)).astype(np.float32)
    gx_ref = np.empty_like(x)
    backend.maxpool2d_backward(gy, idx, gx_ref, shape, backend="numpy")
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        for name in BACKENDS:
            before = _kernels.call_counts()["pool2d"]
            y, codes = np.empty_like(y_ref), np.empty((n, c, oh, ow), np.uint8)
            backend.maxpool2x2_forward(x, y, codes, shape, backend=name)
            np.testing.assert_array_equal(y, y_ref, err_msg=name)
            np.testing.assert_array_equal(codes, want_codes, err_msg=name)
            gx = np.full_like(x, 7.0)  # every element must be written
            backend.maxpool2x2_backward(gy, codes, gx, shape, backend=name)
            np.testing.assert_array_equal(gx, gx_ref, err_msg=name)
            codes.reshape(-1)[::3] = 9
            backend.maxpool2x2_backward(gy, codes, gx, shape, backend=name)
            lost = np.where(codes > 3, -1, idx)  # an index off the plane is skipped too
            backend.maxpool2d_backward(gy, lost, gx_ref_lost := np.empty_like(x), shape,
                                       backend="numpy")
            np.testing.assert_array_equal(gx, gx_ref_lost, err_msg=name)
            if name == "cython":
                assert _kernels.call_counts()["pool2d"] - before == 3
    finally:
        _kernels.isa_force(previous)


def test_max_pool2d_keeps_int64_indices_only_when_asked(monkeypatch):
    """F.max_pool2d on 2x2 windows runs the window-code kernels unless return_indices is set;
    both give the same values and gradients."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    calls = []
    for kind in ("maxpool2x2_forward", "maxpool2x2_backward", "maxpool2d_forward",
                 "maxpool2d_backward"):
        real = getattr(backend, kind)
        monkeypatch.setattr(backend, kind,
                            lambda *a, _real=real, _kind=kind: calls.append(_kind) or _real(*a))
    grads = []
    for indices in (False, True):
        xt = fastnn.tensor(x, requires_grad=True)
        out = F.max_pool2d(xt, 2, return_indices=indices)
        y, idx = out if indices else (out, None)
        (y * y).sum().backward()
        grads.append((y.detach().numpy(), xt.grad.numpy()))
        if indices:
            assert idx.dtype == fastnn.int64 and idx.shape == (2, 3, 4, 4)
    assert calls == ["maxpool2x2_forward", "maxpool2x2_backward", "maxpool2d_forward",
                     "maxpool2d_backward"]
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("threads", [1, 2])
def test_numba_pooling_and_fused_conv_relu_match_the_reference(threads):
    """The Numba kernels on what the random torch comparisons rarely hit: ties and NaNs in max
    pooling, and the fused ReLU's mask in the convolution's backward."""
    fastnn.set_num_threads(threads)
    rng = np.random.default_rng(1)
    x = rng.integers(-3, 3, (3, 2, 9, 8)).astype(np.float32)  # many ties
    x.reshape(-1)[::13] = np.nan
    from fastnn.ops.conv import conv_shape
    from fastnn.ops.pool import pool_shape
    shape = pool_shape(x, (3, 2), (2, 2), (1, 0), (1, 1), True, "max_pool2d")
    pooled = {}
    for name in ("numba", "numpy"):
        y = np.empty(shape[:2] + shape[5:7], np.float32)
        idx = np.empty(y.shape, np.int64)
        backend.maxpool2d_forward(x, y, idx, shape, backend=name)
        gx = np.empty_like(x)
        backend.maxpool2d_backward(np.ones_like(y), idx, gx, shape, backend=name)
        pooled[name] = (y, idx, gx)
    for ours, reference in zip(pooled["numba"], pooled["numpy"]):
        np.testing.assert_array_equal(ours, reference)
    xc = np.nan_to_num(x)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    cshape = conv_shape(xc, w, (1, 2), (1, 1), (2, 1), 2)
    grads = {}
    for name in ("numba", "numpy"):
        y = np.empty((3, 4) + cshape[5:7], np.float32)
        backend.conv2d_forward(xc, w, b, y, cshape, relu=True, backend=name)
        gy = rng.standard_normal(y.shape).astype(np.float32) if name == "numba" else grads["gy"]
        gx, gw, gb = np.empty_like(xc), np.empty_like(w), np.empty_like(b)
        backend.conv2d_backward(xc, w, gy, gx, gw, gb, cshape, relu_output=y, backend=name)
        grads.update({"gy": gy, name: (y, gx, gw, gb)})
    for ours, reference in zip(grads["numba"], grads["numpy"]):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4)
    assert (grads["numba"][0] >= 0).all()


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("n,cin,cout,groups,relu", [(1, 16, 24, 1, True), (9, 32, 64, 1, False),
                                                    (3, 32, 8, 2, True), (10, 64, 64, 1, True)])
def test_deep_filters_forward_and_backward_match_the_reference(isa, n, cin, cout, groups, relu):
    """Filters of 128+ taps per output (3x3 on 16+ channels), where the forward runs as
    col^T @ W^T with bias and ReLU in the GEMM epilogue and the weight gradient transposed
    (issue 12): against the NumPy reference, with a partial last block of images."""
    from fastnn.ops.conv import conv_shape
    rng = np.random.default_rng(n * cin)
    x = rng.standard_normal((n, cin, 9, 11)).astype(np.float32)
    w = (rng.standard_normal((cout, cin // groups, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), groups)
    gy = rng.standard_normal((n, cout, 9, 11)).astype(np.float32)
    results = {}
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        for name in ("cython", "numpy"):
            y = np.empty((n, cout, 9, 11), np.float32)
            backend.conv2d_forward(x, w, b, y, shape, relu=relu, backend=name)
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            backend.conv2d_backward(x, w, gy, gx, gw, gb, shape, y if relu else None,
                                    backend=name)
            results[name] = (y, gx, gw, gb)
    finally:
        _kernels.isa_force(previous)
    for got, want in zip(results["cython"], results["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)


implicit_cases = st.fixed_dictionaries({
    "n": st.integers(0, 3), "groups": st.sampled_from([1, 2]), "cpg": st.integers(1, 5),
    "ocpg": st.integers(1, 40), "h": st.integers(1, 16), "w": st.integers(1, 17),
    "kh": st.integers(1, 5), "kw": st.integers(1, 5), "padding": st.integers(0, 3),
    "dilation": st.integers(1, 2), "relu": st.booleans(), "seed": st.integers(0, 99)})


def _agree_where_finite(got, want):
    """The same pattern of inf/NaN as `want`, and its values where it is finite."""
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-4, atol=1e-3)


def _implicit_against_reference(c, isa, threads, mode="always"):
    from fastnn.ops.conv import conv_shape
    cin, cout = c["cpg"] * c["groups"], c["ocpg"] * c["groups"]
    rng = np.random.default_rng(c["seed"])
    x = rng.standard_normal((c["n"], cin, c["h"], c["w"])).astype(np.float32)
    w = (rng.standard_normal((cout, c["cpg"], c["kh"], c["kw"])) * 0.3).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    pad, dil = (c["padding"], c["padding"]), (c["dilation"], c["dilation"])
    shape = conv_shape(x, w, (1, 1), pad, dil, c["groups"])
    out_shape = (c["n"], cout, shape[5], shape[6])
    gy = rng.standard_normal(out_shape).astype(np.float32)
    results = {}
    previous = (_kernels.isa_active(), _kernels.conv_implicit_mode(mode), fastnn.get_num_threads())
    try:
        _kernels.isa_force(isa)
        fastnn.set_num_threads(threads)
        y_reference = None
        for name in ("numpy", "cython"):
            counts = _kernels.call_counts()["conv2d_implicit"]
            y = np.empty(out_shape, np.float32)
            backend.conv2d_forward(x, w, b, y, shape, relu=c["relu"], backend=name)
            y_reference = y if y_reference is None else y_reference
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            # Both backwards mask gy by the reference's ReLU output: a pre-activation that
            # cancels to ~1e-7 may round to either side of 0 (seed 89 of the Winograd cases
            # gave 2e-7 against 0), and the masks would then differ at that pixel.
            backend.conv2d_backward(x, w, gy, gx, gw, gb, shape,
                                    y_reference if c["relu"] else None, backend=name)
            results[name] = (y, gx, gw, gb)
            ran = _kernels.call_counts()["conv2d_implicit"] - counts
            # the forward (not called on an empty batch), the weight gradient, and the input
            # gradient unless the padding is too wide for it (a forward convolution of gy
            # padded by d(k-1) - p)
            wide = c["padding"] > c["dilation"] * (min(c["kh"], c["kw"]) - 1)
            expected = (c["n"] > 0) + 1 + (not wide)
            assert ran == (0 if name == "numpy" or mode == "never" else expected)
    finally:
        _kernels.isa_force(previous[0])
        _kernels.conv_implicit_mode(previous[1])
        fastnn.set_num_threads(previous[2])
    for got, want in zip(results["cython"], results["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-4)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("n,c,size,oc,k,stride,pad", [
    (5, 12, 1, 20, 3, 1, 1),    # resnet18's last stage: the centre tap of a 1 x 1 image
    (7, 9, 2, 24, 3, 2, 1),     # its stride-2 entry: the lower-right 2 x 2 of the filter
    (3, 4, 3, 6, 3, 1, 0),      # a filter the size of the image, unpadded
    (1, 1, 1, 1, 1, 1, 0)])     # one of everything
def test_filters_covering_whole_images_run_as_one_product(threads, relu, n, c, size, oc, k,
                                                           stride, pad):
    """One output pixel whose window is the whole image: every pass is one product of the
    batch with the filters (kernels/conv.c); values and gradients as the reference's, through
    the fused ReLU too."""
    from fastnn.ops.conv import conv_shape, live_taps
    rng = np.random.default_rng(n + c + oc)
    x = rng.standard_normal((n, c, size, size)).astype(np.float32)
    w = rng.standard_normal((oc, c, k, k)).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32)
    shape = conv_shape(x, w, (stride, stride), (pad, pad), (1, 1), 1)
    live = live_taps(shape)
    if live is not None:  # as conv2d does: the taps that read only padding dropped first
        (top, bottom), (left, right) = live
        w = np.ascontiguousarray(w[:, :, top:bottom, left:right])
        shape = conv_shape(x, w, (stride, stride), (pad - top, pad - left), (1, 1), 1)
    assert shape[5] == shape[6] == 1 and w.shape[2:] == x.shape[2:]
    gy = rng.standard_normal((n, oc, 1, 1)).astype(np.float32)
    results = []
    previous = fastnn.get_num_threads()
    try:
        fastnn.set_num_threads(threads)
        for name in ("cython", "numpy"):
            y = np.empty((n, oc, 1, 1), np.float32)
            backend.conv2d_forward(x, w, b, y, shape, relu=relu, backend=name)
            mask = results[0][0] if results else y  # both backwards mask by one ReLU output
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            backend.conv2d_backward(x, w, gy, gx, gw, gb, shape, mask if relu else None,
                                    backend=name)
            results.append((y, gx, gw, gb))
    finally:
        fastnn.set_num_threads(previous)
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(64, 16, 13), (64, 16, 14), (64, 16, 28), (96, 7, 20)])
def test_pointwise_layer_of_few_channels_by_the_automatic_choice(shape):
    """The same fault reached through nn.functional.conv2d with the automatic path choice: a
    1x1 layer from 64 channels to 16 on 13x13 to 28x28 images returned garbage (NaN at 13x13)
    before the fix. Checked against an einsum."""
    c, o, size = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, c, size, size)).astype(np.float32)
    w = rng.standard_normal((o, c, 1, 1)).astype(np.float32)
    got = F.conv2d(fastnn.from_numpy(x), fastnn.from_numpy(w)).numpy()
    want = np.einsum("nchw,oc->nohw", x.astype(np.float64), w[:, :, 0, 0].astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("ocpg,w", [(13, 13), (16, 14), (5, 30)])
def test_pointwise_layer_on_the_narrow_tile(isa, ocpg, w):
    """A 1x1 layer of at most 16 channels, unpadded, rows wider than 12 pixels: the narrow
    (24 x 16) tile's filters are packed 16 wide, so the 1x1 path that reads A in place (for
    32-wide panels) must not take it. It did, and computed nothing: hypothesis found (13
    channels, 13 pixels) with garbage in the output."""
    case = {"n": 2, "groups": 1, "cpg": 3, "ocpg": ocpg, "h": 2, "w": w, "kh": 1, "kw": 1,
            "padding": 0, "dilation": 1, "relu": False, "seed": 0}
    for threads in (1, 2):
        _implicit_against_reference(case, isa, threads)


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("threads", [1, 2])
@settings(max_examples=25, deadline=None)
@given(case=implicit_cases)
def test_implicit_gemm_convolution_matches_the_reference(isa, threads, case):
    """Stride-1 convolutions as implicit GEMMs (kernels/conv_implicit.c, issue 12), forced on
    for every pass: forward with bias and fused ReLU, both gradients through the ReLU mask,
    against the NumPy reference on random shapes: channel counts that are not whole
    micro-tiles, output rows shorter and longer than a 12- or 32-pixel panel, dilation, groups,
    padding up to 3 (wider than the filter's reach, where the input gradient falls back to
    im2col), and empty batches."""
    c = case
    assume(c["h"] + 2 * c["padding"] >= c["dilation"] * (c["kh"] - 1) + 1)
    assume(c["w"] + 2 * c["padding"] >= c["dilation"] * (c["kw"] - 1) + 1)
    _implicit_against_reference(c, isa, threads)


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@settings(max_examples=30, deadline=None)
@given(case=implicit_cases, w=st.integers(1, 40))
def test_im2col_path_matches_the_reference(isa, case, w):
    """Every pass on im2col + GEMM (the path of strided and shallow layers), whose stride-1
    col2im gathers 16 input pixels per register on AVX-512: rows of 1 to 40 pixels (one to
    three 16-lane stretches), padding, dilation and groups, against the NumPy reference."""
    c = dict(case, w=w)
    assume(c["h"] + 2 * c["padding"] >= c["dilation"] * (c["kh"] - 1) + 1)
    assume(c["w"] + 2 * c["padding"] >= c["dilation"] * (c["kw"] - 1) + 1)
    _implicit_against_reference(c, isa, 2, mode="never")


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("n,cin,cout,h,w,k,p", [(3, 32, 64, 14, 14, 3, 1), (2, 6, 16, 14, 14, 5, 0),
                                                 (2, 64, 40, 7, 7, 3, 1), (2, 33, 20, 28, 28, 3, 1),
                                                 (1, 64, 128, 14, 14, 1, 0)])
def test_implicit_gemm_on_the_benchmark_layers(isa, n, cin, cout, h, w, k, p):
    """The layers the rules in conv.c send to the implicit GEMM (deep filters, several K
    blocks of taps and pixel blocks), against the reference on each instruction set."""
    case = dict(n=n, groups=1, cpg=cin, ocpg=cout, h=h, w=w, kh=k, kw=k, padding=p, dilation=1,
                relu=True, seed=n + cin)
    _implicit_against_reference(case, isa, 2)


@pytest.mark.parametrize("isa", [i for i in ("generic", "avx2", "avx512") if _kernels.isa_supported(i)])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n,cin,cout,h,w,relu", [
    (5, 64, 128, 14, 14, False),  # gy itself read in place, one image a block
    (5, 64, 130, 14, 14, False),  # and a last partial tile of output channels, packed
    (5, 64, 128, 14, 14, True),   # a ReLU mask: the masked copy read in place, images grouped
    (3, 48, 100, 32, 16, False),  # 512 pixels a row: they would share L1 sets, so packed
    (9, 20, 40, 9, 11, True),     # few pixels: grouped, an uneven last group
])
def test_weight_gradient_reads_the_output_gradient_in_place(isa, threads, n, cin, cout, h, w,
                                                            relu):
    """Where the weight gradient's output channels are the rows (1x1 layers), the strided
    micro-kernel reads them from gy, or from its masked copy, where they lie (issue 12)."""
    case = dict(n=n, groups=1, cpg=cin, ocpg=cout, h=h, w=w, kh=1, kw=1, padding=0, dilation=1,
                relu=relu, seed=n + cout)
    _implicit_against_reference(case, isa, threads)


@pytest.mark.skipif(not _kernels.isa_supported("avx512"), reason="the 24 x 16 tile is AVX-512")
def test_narrow_tile_runs_where_it_pads_less():
    """(256,6,14,14) -> 16, 5x5: 16 output channels half-fill the 12 x 32 tile, so the forward
    and the weight gradient take the 24 x 16 one (kernels/gemm_ukernel_avx512.c); the input
    gradient (6 channels out) does not. With 12 channels the 12 x 32 tile pads less."""
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force("avx512")
        for cout, expected in ((16, 2), (12, 0), (5, 0)):
            before = _kernels.call_counts()["conv2d_24x16"]
            case = dict(n=2, groups=1, cpg=6, ocpg=cout, h=14, w=14, kh=5, kw=5, padding=0,
                        dilation=1, relu=True, seed=cout)
            _implicit_against_reference(case, "avx512", 2)
            assert _kernels.call_counts()["conv2d_24x16"] - before == expected
    finally:
        _kernels.isa_force(previous)


def test_implicit_gemm_rules_and_nonfinite_inputs():
    """In the default mode the deep 3x3 layer takes the implicit GEMM on all three passes and
    the first layer (9 taps) keeps im2col; inf and NaN in the input spread to the
    same outputs and gradients as in im2col."""
    from fastnn.ops.conv import conv_shape
    assert _kernels.conv_implicit_mode() == "auto"
    rng = np.random.default_rng(0)
    for cin, ran_expected in ((32, 3), (1, 0)):  # the first layer keeps im2col
        x = rng.standard_normal((2, cin, 14, 14)).astype(np.float32)
        w = rng.standard_normal((64, cin, 3, 3)).astype(np.float32)
        shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), 1)
        before = _kernels.call_counts()["conv2d_implicit"]
        y = np.empty((2, 64, 14, 14), np.float32)
        backend.conv2d_forward(x, w, None, y, shape)
        backend.conv2d_backward(x, w, np.ones_like(y), np.empty_like(x), np.empty_like(w), None,
                                shape)
        assert _kernels.call_counts()["conv2d_implicit"] - before == ran_expected
    x = rng.standard_normal((2, 32, 14, 14)).astype(np.float32)
    x[0, 3, 5, 13] = np.inf
    x[1, 0, 0, 0] = np.nan
    w = rng.standard_normal((64, 32, 3, 3)).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), 1)
    gy = rng.standard_normal((2, 64, 14, 14)).astype(np.float32)
    runs = []
    for mode in ("never", "always"):
        previous = _kernels.conv_implicit_mode(mode)
        try:
            y = np.empty((2, 64, 14, 14), np.float32)
            gx, gw = np.empty_like(x), np.empty_like(w)
            backend.conv2d_forward(x, w, None, y, shape)
            backend.conv2d_backward(x, w, gy, gx, gw, None, shape)
            runs.append((y, gx, gw))
        finally:
            _kernels.conv_implicit_mode(previous)
    for got, want in zip(runs[1], runs[0]):
        _agree_where_finite(got, want)


winograd_cases = st.fixed_dictionaries({
    "n": st.integers(1, 6), "groups": st.sampled_from([1, 2]), "cpg": st.integers(1, 40),
    "ocpg": st.integers(1, 70), "h": st.integers(1, 15), "w": st.integers(1, 15),
    "padding": st.integers(0, 2), "relu": st.booleans(), "seed": st.integers(0, 99)})


@pytest.mark.skipif(not _kernels.isa_supported("avx512"), reason="Winograd runs on AVX-512")
@pytest.mark.parametrize("threads", [1, 2])
@settings(max_examples=30, deadline=None)
@given(case=winograd_cases)
def test_winograd_3x3_matches_the_reference(threads, case):
    """3x3 stride-1 forward, input gradient and weight gradient by Winograd's F(2x2, 3x3)
    (kernels/conv_winograd.c, issue 12) against the NumPy reference: odd output sizes (a
    last row or column of half tiles), outputs smaller than one tile, padding 0-2, groups,
    channel counts that are not whole panels, batches that do not fill a step of 4 images."""
    c = dict(case, kh=3, kw=3, dilation=1)
    assume(c["h"] + 2 * c["padding"] >= 3 and c["w"] + 2 * c["padding"] >= 3)
    before = _kernels.call_counts()["conv2d_winograd"]
    assert _kernels.conv_winograd()
    _implicit_against_reference(c, "avx512", threads)
    # the forward, the input gradient (a forward convolution of gy padded by 2 - p) and, from
    # 16 input channels, the weight gradient
    assert _kernels.call_counts()["conv2d_winograd"] - before == 2 + (c["cpg"] >= 16)


@pytest.mark.skipif(not _kernels.isa_supported("avx512"), reason="Winograd runs on AVX-512")
@pytest.mark.parametrize("where", ["x", "gy", "none"])
def test_winograd_weight_gradient_recomputes_a_nonfinite_result_directly(where):
    """An inf or NaN in x or gy spreads through the transforms to weights whose taps never saw
    it; a weight gradient with any non-finite value is computed again on the implicit GEMM, so
    the pattern of non-finite weights is the direct convolution's (winograd off)."""
    from fastnn.ops.conv import conv_shape
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 16, 9, 12)).astype(np.float32)
    w = rng.standard_normal((20, 16, 3, 3)).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), 1)
    gy = rng.standard_normal((4, 20, 9, 12)).astype(np.float32)
    if where == "x":
        x[1, 3, 0, 0] = np.inf  # a corner: only some taps of channel 3 ever read it
    elif where == "gy":
        gy[2, 5, 4, 4] = np.nan
    runs = []
    previous = _kernels.isa_active()
    _kernels.isa_force("avx512")
    try:
        for on in (True, False):
            was = _kernels.conv_winograd(on)
            try:
                before = _kernels.call_counts()["conv2d_winograd"]
                gw, gb = np.empty_like(w), np.empty(20, np.float32)
                backend.conv2d_backward(x, w, gy, None, gw, gb, shape, None)
                assert _kernels.call_counts()["conv2d_winograd"] - before == int(on)
            finally:
                _kernels.conv_winograd(was)
            runs.append((gw, gb))
    finally:
        _kernels.isa_force(previous)
    for got, want in zip(runs[0], runs[1]):
        _agree_where_finite(got, want)
    if where == "x":
        assert 0 < np.isfinite(runs[1][0]).sum() < w.size  # the direct pattern is partial


@pytest.mark.skipif(not _kernels.isa_supported("avx512"), reason="Winograd runs on AVX-512")
def test_winograd_switch_and_nonfinite_inputs():
    """conv_winograd(False) keeps 3x3 layers on the implicit GEMM; both give the same values to
    rounding. An inf or NaN in the input sends the call to the implicit GEMM: a tile's
    transform mixes its 16 inputs, so Winograd would spread it to outputs whose window does
    not hold it, where torch's direct convolution keeps them finite."""
    from fastnn.ops.conv import conv_shape
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 16, 10, 11)).astype(np.float32)
    w = rng.standard_normal((24, 16, 3, 3)).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), 1)
    runs = []
    previous = _kernels.isa_active()
    _kernels.isa_force("avx512")
    try:
        for finite in (True, False):
            if not finite:
                x[0, 2, 4, 5] = np.inf
                x[2, 0, 9, 10] = np.nan
            for on in (True, False):
                before = _kernels.call_counts()["conv2d_winograd"]
                was = _kernels.conv_winograd(on)
                try:
                    y = np.empty((3, 24, 10, 11), np.float32)
                    backend.conv2d_forward(x, w, None, y, shape)
                finally:
                    _kernels.conv_winograd(was)
                assert _kernels.call_counts()["conv2d_winograd"] - before == int(on and finite)
                runs.append(y)
    finally:
        _kernels.isa_force(previous)
    np.testing.assert_allclose(runs[0], runs[1], rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(np.isfinite(runs[2]), np.isfinite(runs[3]))


def test_a_layer_past_the_thread_scratch_cap_allocates_for_the_call():
    """The conv drivers keep their buffers per thread up to 32 MiB (conv_shared.h,
    FNN_CONV_SCRATCH_MAX); a layer needing more (im2col of 8 images of 224 x 224 x 27 taps,
    43 MiB) gets a block for the call only, and the same results as the reference."""
    from fastnn.ops.conv import conv_shape
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 3, 224, 224)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    shape = conv_shape(x, w, (1, 1), (1, 1), (1, 1), 1)
    gy = rng.standard_normal((8, 4, 224, 224)).astype(np.float32)
    out = {}
    for name in ("cython", "numpy"):
        y = np.empty((8, 4, 224, 224), np.float32)
        backend.conv2d_forward(x, w, b, y, shape, backend=name)
        gx, gw = np.empty_like(x), np.empty_like(w)
        backend.conv2d_backward(x, w, gy, gx, gw, None, shape, None, backend=name)
        out[name] = (y, gx, gw)
    for got, want in zip(out["cython"], out["numpy"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=5e-3)


@pytest.mark.parametrize("h, w, k, stride, padding, dilation, groups", [
    (1, 1, 3, 1, 1, 1, 1),    # resnet18's last stage on 32 x 32: the centre tap only
    (2, 2, 3, 2, 1, 1, 1),    # 2 x 2 -> 1 x 1 at stride 2: a 2 x 2 window of taps
    (1, 3, 3, 1, 1, 1, 2),    # rows cropped, columns not; groups
    (2, 2, 5, 1, 2, 1, 1),
    (1, 1, 3, 1, 2, 2, 1),    # dilated
    (3, 3, 7, 2, 3, 1, 1),
    (2, 2, 3, 1, 1, 1, 1),    # every tap live: unchanged
])
def test_taps_that_read_only_padding_are_dropped_exactly(h, w, k, stride, padding, dilation,
                                                         groups):
    torch = pytest.importorskip("torch")
    from fastnn.ops.conv import conv_shape, live_taps
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 4, h, w)).astype(np.float32)
    weight = rng.standard_normal((6, 4 // groups, k, k)).astype(np.float32)
    bias = rng.standard_normal(6).astype(np.float32)
    results = []
    for lib in (torch, fastnn):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, weight, bias))
        y = lib.nn.functional.conv2d(xt, wt, bt, stride, padding, dilation, groups)
        y.backward(lib.ones_like(y) * 0.5 + lib.arange(float(y.numel())).reshape(y.shape) / 7)
        results.append([t.detach().numpy() for t in (y, xt.grad, wt.grad, bt.grad)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)
    shape = conv_shape(x, weight, (stride, stride), (padding, padding), (dilation, dilation),
                       groups)
    assert (live_taps(shape) is None) == ((h, k) == (2, 3) and stride == 1)
