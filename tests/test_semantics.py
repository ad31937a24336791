"""torch.Tensor semantics programs rely on (issue 9): in-place ops in autograd, version
counters, .data, views, dtypes and promotion, the device API. Each case runs the same code on
torch and on fastnn and compares values, gradients and error messages."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastnn

torch = pytest.importorskip("torch")


def both(program):
    """Run program(lib) on torch and on fastnn; return both results as NumPy trees."""
    return _tree(program(torch)), _tree(program(fastnn))


def _tree(value):
    if isinstance(value, (list, tuple)):
        return [_tree(v) for v in value]
    if value is None:
        return None
    if hasattr(value, "detach"):
        return np.asarray(value.detach().numpy(), dtype=np.float64)
    return value


def assert_same(program, atol=1e-5):
    ours_torch, ours = both(program)
    _compare(ours_torch, ours, atol)


def _compare(a, b, atol):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _compare(x, y, atol)
    elif a is None:
        assert b is None
    elif isinstance(a, np.ndarray):
        np.testing.assert_allclose(b, a, atol=atol, rtol=1e-5)
    else:
        assert a == b


def _leaves(lib):
    lib.manual_seed(0)
    w = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    x = lib.tensor([1.5, 0.25, -3.0], requires_grad=True)
    return w, x


# --- in-place ops are recorded -----------------------------------------------------------
INPLACE_PROGRAMS = {
    "iadd (the issue's example)": lambda y, x: y.__iadd__(x),
    "isub": lambda y, x: y.__isub__(x),
    "imul": lambda y, x: y.__imul__(x),
    "itruediv": lambda y, x: y.__itruediv__(x * x + 1),
    "add_ alpha": lambda y, x: y.add_(x, alpha=0.5),
    "mul_ scalar": lambda y, x: y.mul_(3.0),
    "pow_": lambda y, x: y.pow_(2),
    "clamp_": lambda y, x: y.clamp_(-1.0, 1.5),
    "relu_": lambda y, x: y.relu_(),
    "sigmoid_": lambda y, x: y.sigmoid_(),
    "tanh_": lambda y, x: y.tanh_(),
    "zero_": lambda y, x: y.zero_(),
    "fill_": lambda y, x: y.fill_(2.0),
    "copy_": lambda y, x: y.copy_(x * 2),
    "masked_fill_": lambda y, x: y.masked_fill_(x > 0, 0.0),
    "setitem int": lambda y, x: y.__setitem__(0, x[1] * 3),
    "setitem slice": lambda y, x: y.__setitem__(slice(1, 3), x[:2]),
    "setitem mask": lambda y, x: y.__setitem__(y < 0, 0.0),
    "view then iadd": lambda y, x: y.view(3, 1).__iadd__(x.view(3, 1)),
    "slice then mul_": lambda y, x: y[1:].mul_(x[1:]),
    "index then add_": lambda y, x: y[0].add_(x[2]),
    "transpose view": lambda y, x: y.view(1, 3).t().mul_(x.view(3, 1)),
}


@pytest.mark.parametrize("name", sorted(INPLACE_PROGRAMS))
def test_inplace_ops_give_torchs_gradients(name):
    op = INPLACE_PROGRAMS[name]

    def program(lib):
        w, x = _leaves(lib)
        y = w * 2
        z = y * 1.0  # y used before the in-place op: that use keeps the old value
        op(y, x)
        loss = (y * y).sum() + (z * w).sum()
        loss.backward()
        return [y, w.grad, x.grad]

    assert_same(program)


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad_only():
    for lib in (torch, fastnn):
        w, _ = _leaves(lib)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation."):
            w += 1
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            w[0:2].add_(1)
        with lib.no_grad():
            w -= 0.1 * lib.ones(3)
        assert w.is_leaf and w.grad_fn is None and w.requires_grad


def test_modified_saved_tensor_raises_torchs_error():
    for lib in (torch, fastnn):
        w, _ = _leaves(lib)
        y = w.exp()
        y.add_(1)  # exp saved its output
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                               "computation has been modified by an inplace "
                                               "operation: .*is at version 1; expected "
                                               "version 0 instead"):
            y.sum().backward()
        w2, x = _leaves(lib)
        h = w2 * 1.0
        p = h * x  # mul saved h for x's gradient
        h.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            p.sum().backward()


def test_unsaved_tensor_may_be_modified():
    def program(lib):
        w, x = _leaves(lib)
        y = w + x  # add saves nothing
        y2 = y * 1
        y.add_(1)
        (y2 * y).sum().backward()
        return [w.grad, x.grad]

    assert_same(program)


def test_residual_block_pattern():
    """d2l's Residual: Y = bn(conv(...)); Y += X; return relu(Y)."""
    def program(lib):
        lib.manual_seed(0)
        X = lib.tensor(np.linspace(-2, 2, 24, dtype=np.float32).reshape(2, 3, 2, 2),
                       requires_grad=True)
        conv = lib.nn.Conv2d(3, 3, 3, padding=1)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(np.linspace(-0.5, 0.5, 81, dtype=np.float32)
                                         .reshape(3, 3, 3, 3)))
            conv.bias.zero_()
        Y = conv(X)
        Y += X
        out = lib.relu(Y).sum()
        out.backward()
        return [out, X.grad, conv.weight.grad]

    assert_same(program, atol=1e-4)


def test_retain_grad_is_leaf_and_grad_fn_names():
    for lib in (torch, fastnn):
        w, x = _leaves(lib)
        y = w * x
        y.retain_grad()
        z = (y + 1).sum()
        z.backward()
        assert w.is_leaf and not y.is_leaf
        np.testing.assert_allclose(y.grad.numpy(), np.ones(3))
    names = {}
    for lib in (torch, fastnn):
        w, x = _leaves(lib)
        m = lib.ones(2, 3)
        exprs = [w * 2, w + x, w.sum(), w.mean(), w.exp(), lib.relu(w), w.view(3, 1),
                 w[0], w[0:2], w[[0, 1]], w.unsqueeze(0).t(), w.double(), lib.cat([w, x]),
                 w.clone(), lib.softmax(w, 0), m @ w, -w, w ** 2, w.sigmoid(), w.tanh(),
                 w.unsqueeze(0).T, w.expand(2, 3), w.unsqueeze(1), w.sum(0), w.mean(-1),
                 lib.sum(w, dim=0, keepdim=True)]
        names[lib.__name__] = [type(e.grad_fn).__name__ if lib is torch else e.grad_fn.name()
                               for e in exprs]
    assert names["fastnn"] == names["torch"]


def test_reading_grad_of_a_non_leaf_warns_as_torch():
    """The autograd tutorial prints c.grad of an intermediate result: None, with torch's
    warning; a leaf, a retained non-leaf and a tensor outside the graph do not warn."""
    import warnings
    seen = {}
    for lib in (torch, fastnn):
        w, x = _leaves(lib)
        y = w * x
        kept = w * 2
        kept.retain_grad()
        (y.sum() + kept.sum()).backward()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [y.grad, w.grad is not None, kept.grad is not None, x.detach().grad]
        seen[lib.__name__] = (values, [str(c.message).split(" (Triggered internally")[0]
                                       for c in caught])
    assert seen["fastnn"] == seen["torch"] and len(seen["torch"][1]) == 1


def test_float_of_a_tensor_that_requires_grad_warns_once_as_torch():
    """d2l's Accumulator sums float(loss): torch says once per process that converting a tensor
    that requires grad to a scalar may surprise; int(), .item() and detached tensors do not."""
    import warnings
    import sys
    sys.modules["fastnn.tensor"]._WARNED_SCALAR = False  # (fastnn.tensor is also a function)
    x = fastnn.ones((), requires_grad=True) * 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int(x), x.item(), float(x.detach())
        with fastnn.no_grad():  # (torch's check runs with grad mode on only: LBFGS's float)
            float(x)
        assert caught == []
        values = [float(x), float(x), float(fastnn.ones(1, requires_grad=True))]
    assert values == [2.0, 2.0, 1.0]
    assert [str(c.message) for c in caught] == [
        "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
        "behavior.\nConsider using tensor.detach() first."]


def test_hooks_and_autograd_grad():
    for lib in (torch, fastnn):
        w, x = _leaves(lib)
        seen = []
        y = w * x
        handle = y.register_hook(lambda g: seen.append(g.clone()) or g * 2)
        y.sum().backward()
        handle.remove()
        np.testing.assert_allclose(w.grad.numpy(), 2 * x.detach().numpy())
        (gx,) = lib.autograd.grad((w * x).sum(), x)
        np.testing.assert_allclose(gx.numpy(), w.detach().numpy())
        assert len(seen) == 1


# --- .data, views, storage ----------------------------------------------------------------
def test_data_is_a_detached_alias():
    for lib in (torch, fastnn):
        p = lib.nn.Parameter(lib.zeros(2, 3))
        d = p.data
        assert type(d) is lib.Tensor and not d.requires_grad
        p.data.normal_(0, 0.01)
        assert p.abs().sum().item() > 0
        p.grad = lib.ones(2, 3)
        p.data -= 0.5 * p.grad
        assert p.is_leaf and p.requires_grad
        p.data = lib.ones(4)
        assert tuple(p.shape) == (4,)
        assert p.data.numpy().tolist() == [1.0, 1.0, 1.0, 1.0]


def test_views_share_storage_and_writes_go_through():
    for lib in (torch, fastnn):
        x = lib.arange(6.0)
        v = x.view(2, 3)
        v[0, 1] = 10
        x.reshape(3, 2)[2, 0] += 1
        x[1:3].mul_(2)
        x.unsqueeze(0)[0, 5] = -1
        x.view(2, 3).T[2, 1] = 7
        e = x.view(1, 6).expand(2, 6)
        assert not e.is_contiguous()
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            e.add_(1)
        assert x.tolist() == [0.0, 20.0, 4.0, 3.0, 5.0, 7.0]
        assert v.is_contiguous() and not v.T.is_contiguous() and v.T.contiguous().is_contiguous()
        c = x.clone()
        c[0] = 99
        assert x[0].item() == 0.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["add", "mul", "iadd", "imul", "relu_", "view_add",
                                 "slice_mul", "setitem", "tanh", "clamp_"]),
                min_size=1, max_size=6),
       st.integers(0, 2**16))
def test_random_inplace_sequences_match_torch(ops, seed):
    values = np.random.default_rng(seed).uniform(-2, 2, (3, 4)).astype(np.float32)

    def program(lib):
        a = lib.tensor(values, requires_grad=True)
        b = lib.tensor(values[::-1].copy(), requires_grad=True)
        y = a * 1.0
        for op in ops:
            if op == "add":
                y = y + b
            elif op == "mul":
                y = y * b
            elif op == "iadd":
                y += b
            elif op == "imul":
                y *= 0.5
            elif op == "relu_":
                y = y.clone().relu_()
            elif op == "view_add":
                y.view(-1)[1:5] += b.view(-1)[:4]
            elif op == "slice_mul":
                y[:, 1].mul_(2.0)
            elif op == "setitem":
                y[0] = b[1]
            elif op == "tanh":
                y = y.tanh()
            elif op == "clamp_":
                y.clamp_(-1.5, 1.5)
        (y * y).sum().backward()
        return [y, a.grad, b.grad]

    try:
        expected = _tree(program(torch))
    except RuntimeError as exc:  # torch refuses (a saved tensor was modified): so must we
        assert "modified by an inplace operation" in str(exc)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            program(fastnn)
        return
    _compare(expected, _tree(program(fastnn)), 1e-4)


# --- dtypes and promotion -------------------------------------------------------------------
def test_dtype_objects_and_defaults():
    assert repr(fastnn.float32) == "fastnn.float32"
    assert fastnn.float is fastnn.float32 and fastnn.double is fastnn.float64
    assert fastnn.long is fastnn.int64 and fastnn.int is fastnn.int32
    assert fastnn.half is fastnn.float16
    assert fastnn.get_default_dtype() is fastnn.float32
    fastnn.set_default_dtype(fastnn.float64)
    try:
        assert fastnn.tensor([1.0]).dtype is fastnn.float64
        assert fastnn.zeros(2).dtype is fastnn.float64
    finally:
        fastnn.set_default_dtype(fastnn.float32)
    assert fastnn.bfloat16.is_floating_point and fastnn.tensor([1.5]).bfloat16().item() == 1.5


@pytest.mark.parametrize("case", [
    lambda L: L.tensor([1, 2]) / L.tensor([2, 4]),
    lambda L: L.tensor([1, 2]) * 2.5,
    lambda L: L.tensor([1.0], dtype=L.float32) + L.tensor([1.0], dtype=L.float64),
    lambda L: L.tensor([1.0], dtype=L.float32) + L.tensor(1.0, dtype=L.float64),
    lambda L: L.tensor([1], dtype=L.int32) + L.tensor(1.0, dtype=L.float64),
    lambda L: L.tensor([1], dtype=L.uint8) + L.tensor([1], dtype=L.int8),
    lambda L: L.tensor([True]) + 1,
    lambda L: L.tensor([1, 2]) > 1,
    lambda L: L.tensor([1, 2]) ** 2,
    lambda L: L.tensor([1, 2]) ** 0.5,
    lambda L: L.tensor([1, 2]).exp(),
    lambda L: L.tensor([3, 4]).sum(),
    lambda L: L.tensor([1.5]).half() * 2,
    lambda L: L.tensor(np.ones(2)),
    lambda L: L.from_numpy(np.ones(2, np.int32)),
    lambda L: L.arange(5),
    lambda L: L.arange(0, 1, 0.25),
    lambda L: L.full((2,), 7),
    lambda L: L.tensor([1, 2]).float().mean(),
])
def test_type_promotion_matches_torch(case):
    ours, theirs = case(fastnn), case(torch)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.detach().float().numpy(), theirs.detach().float().numpy())


def test_conversions_type_names_and_errors():
    for lib in (torch, fastnn):
        x = lib.tensor([1.5, -2.0])
        assert x.type() == f"{lib.__name__}.FloatTensor"
        assert x.long().type() == f"{lib.__name__}.LongTensor"
        assert x.double().element_size() == 8 and x.int().dtype == lib.int32
        assert x.to(lib.float64).dtype == lib.float64 and x.to(x) is x
        assert x.to("cpu", lib.float16).dtype == lib.float16
        assert x.bool().tolist() == [True, True]
        i = lib.tensor([1, 2])
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type Long"):
            i += 1.5
        with pytest.raises(RuntimeError, match="only Tensors of floating point"):
            i.requires_grad_()
        with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype, "
                                               "but got: double != float"):
            lib.ones(2, 3, dtype=lib.float64) @ lib.ones(3, 2)
        assert f"{lib.tensor(0.123456):.3f}" == "0.123"
        assert lib.tensor([1.0, -2.0]).view(lib.int32).tolist() == [1065353216, -1073741824]
        assert repr(lib.tensor([1, 2], dtype=lib.int32)).endswith(
            f"dtype={lib.__name__}.int32)")


def test_float64_autograd_matches_finite_differences():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))

    def f(x, y):
        return ((x @ y).tanh() * 2 + x.sum() ** 2).exp().mean()

    A, B = fastnn.tensor(a, requires_grad=True), fastnn.tensor(b, requires_grad=True)
    out = f(A, B)
    assert out.dtype == fastnn.float64
    out.backward()
    eps = 1e-6
    for X, base, other_first in ((A, a, True), (B, b, False)):
        numeric = np.zeros_like(base)
        for idx in np.ndindex(*base.shape):
            plus, minus = base.copy(), base.copy()
            plus[idx] += eps
            minus[idx] -= eps
            args_p = (plus, b) if other_first else (a, plus)
            args_m = (minus, b) if other_first else (a, minus)
            numeric[idx] = (f(*map(fastnn.tensor, args_p)).item() -
                            f(*map(fastnn.tensor, args_m)).item()) / (2 * eps)
        np.testing.assert_allclose(X.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)


# --- the device API and creation signatures --------------------------------------------------
def test_device_api_of_tutorials():
    for lib in (torch, fastnn):
        device = "cuda" if lib.cuda.is_available() else (
            "mps" if lib.backends.mps.is_available() else "cpu")
        assert device == "cpu" and lib.cuda.device_count() == 0
        assert not lib.accelerator.is_available()
        d = lib.device(device)
        assert d.type == "cpu" and str(d) == "cpu" and repr(d) == "device(type='cpu')"
        x = lib.ones(2, 3, device=d)
        assert x.device == d and x.device.type == "cpu" and x.to(d) is x and x.cpu() is x
        m = lib.nn.Linear(3, 1).to(device)
        assert isinstance(m, lib.nn.Linear)
        with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
            x.to("cuda")
        with pytest.raises(RuntimeError, match="Invalid device string"):
            lib.device("gpu9")


@pytest.mark.parametrize("make", [
    lambda L: L.zeros(2, 3), lambda L: L.zeros((2, 3)), lambda L: L.zeros(size=(2, 3)),
    lambda L: L.ones([2, 3], dtype=L.float64), lambda L: L.full((2, 2), 1.5),
    lambda L: L.empty(2, 3).zero_(), lambda L: L.eye(3, dtype=L.int64),
    lambda L: L.arange(1, 10, 2), lambda L: L.linspace(0, 1, 5),
    lambda L: L.zeros_like(L.ones(2, dtype=L.int32)), lambda L: L.ones_like(L.ones(3), dtype=L.float64),
    lambda L: L.full_like(L.ones(2), 3), lambda L: L.rand(size=(2, 3)).shape,
    lambda L: L.randn(2, 3, dtype=L.float64).dtype, lambda L: L.randint(0, 10, (4,)).dtype,
    lambda L: L.randint(5, (3, 2)).shape, lambda L: L.randperm(5).sort().values,
    lambda L: L.normal(0, 0.01, size=(3, 2)).shape, lambda L: L.normal(0.0, L.ones(3)).shape,
    lambda L: L.zeros(2, requires_grad=True).requires_grad,
])
def test_creation_signatures(make):
    if "sort" in repr(make.__code__.co_names) and not hasattr(fastnn.Tensor, "sort"):
        ours = fastnn.tensor(np.sort(fastnn.randperm(5).numpy()))
        theirs = make(torch)
    else:
        ours, theirs = make(fastnn), make(torch)
    if hasattr(theirs, "dtype") and hasattr(theirs, "numpy"):
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        assert tuple(ours.shape) == tuple(theirs.shape)
        if "rand" not in repr(make.__code__.co_names):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    else:
        assert str(ours).replace("fastnn", "torch") == str(theirs)


def test_out_arguments():
    for lib in (torch, fastnn):
        out = lib.empty(2, 2)
        lib.matmul(lib.ones(2, 3), lib.ones(3, 2), out=out) if lib is torch else \
            lib.add(lib.ones(2, 2), 2, out=out)
        r = lib.zeros(3)
        lib.add(lib.ones(3), lib.ones(3), out=r)
        assert r.tolist() == [2.0, 2.0, 2.0]


# --- interchange ---------------------------------------------------------------------------
def test_dlpack_both_ways_share_memory():
    t = fastnn.arange(4.0)
    a = np.from_dlpack(t)
    a[0] = 5
    assert t[0].item() == 5
    tt = torch.from_dlpack(t)
    tt[1] = 7
    assert t[1].item() == 7
    src = torch.arange(3.0)
    f = fastnn.from_dlpack(src)
    f[2] = -1
    assert src[2].item() == -1
    n = np.arange(3, dtype=np.int64)
    fastnn.from_dlpack(n)[0] = 9
    assert n[0] == 9 and np.asarray(fastnn.ones(2)).tolist() == [1.0, 1.0]


def test_save_load_training_checkpoint_dict(tmp_path):
    net = fastnn.nn.Sequential(fastnn.nn.Linear(4, 3), fastnn.nn.ReLU(), fastnn.nn.Linear(3, 2))
    opt = fastnn.optim.Adam(net.parameters(), lr=1e-3)
    net(fastnn.ones(5, 4)).sum().backward()
    opt.step()
    path = tmp_path / "ckpt.pt"
    fastnn.save({"epoch": 3, "model": net.state_dict(), "optimizer": opt.state_dict(),
                 "loss": 0.25, "name": "mlp", "history": [1.0, 0.5]}, path)
    ckpt = fastnn.load(path, weights_only=True, map_location="cpu")
    assert ckpt["epoch"] == 3 and ckpt["loss"] == 0.25 and ckpt["name"] == "mlp"
    assert ckpt["history"] == [1.0, 0.5]
    fresh = fastnn.nn.Sequential(fastnn.nn.Linear(4, 3), fastnn.nn.ReLU(),
                                 fastnn.nn.Linear(3, 2))
    fresh.load_state_dict(ckpt["model"])
    opt2 = fastnn.optim.Adam(fresh.parameters(), lr=1e-3)
    opt2.load_state_dict(ckpt["optimizer"])
    for (k, v), (_, w) in zip(net.state_dict().items(), fresh.state_dict().items()):
        np.testing.assert_array_equal(v.numpy(), w.numpy())
    torch_file = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, torch_file)  # torch's own format loads too
    np.testing.assert_array_equal(fastnn.load(torch_file)["w"].numpy(), [1.0, 1.0])


def test_model_double_trains_as_torchs():
    """model.double(): Linear and cross-entropy run in float64 on NumPy; conv, pooling and
    batch norm run their float32 kernels between conversions (float32 precision)."""
    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(32, 4)).double()

    theirs = build(torch)
    ours = build(fastnn)
    ours.load_state_dict({k: fastnn.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    x = np.random.default_rng(1).normal(size=(4, 1, 8, 8))
    y = np.array([0, 1, 2, 3])
    results = []
    for lib, net in ((torch, theirs), (fastnn, ours)):
        opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        for _ in range(3):
            loss = lib.nn.functional.cross_entropy(net(lib.tensor(x)), lib.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.dtype == lib.float64
        results.append([loss.item()] + [v.detach().numpy().copy()
                                        for v in net.state_dict().values()])
    for a, b in zip(*results):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match=r"Input type \(double\) and weight type \(float\)"):
        fastnn.nn.Conv2d(1, 2, 3)(fastnn.tensor(x))


def test_grad_mode_is_thread_local():
    """A thread inside no_grad() does not stop another thread from recording (issue 11)."""
    import threading
    inside, done = threading.Event(), threading.Event()
    recorded = []

    def serving():
        with fastnn.no_grad():
            inside.set()
            done.wait(5)

    server = threading.Thread(target=serving)
    server.start()
    inside.wait(5)
    w = fastnn.ones(3, requires_grad=True)
    for _ in range(200):
        recorded.append((w * 2).requires_grad)
    done.set()
    server.join()
    assert all(recorded) and fastnn.is_grad_enabled()
    with fastnn.set_grad_enabled(False):
        assert not (w * 2).requires_grad
    with fastnn.inference_mode():
        assert not (w * 2).requires_grad and fastnn.is_inference_mode_enabled()
    assert (w * 2).requires_grad


def test_utils_data_matches_torch():
    from fastnn.utils import data as fdata
    from torch.utils import data as tdata
    for data, lib in ((tdata, torch), (fdata, fastnn)):
        ds = data.TensorDataset(lib.arange(10.0).reshape(5, 2), lib.arange(5))
        assert len(ds) == 5 and ds[1][1].item() == 1
        batches = list(data.DataLoader(ds, batch_size=2))
        assert [len(b[0]) for b in batches] == [2, 2, 1]
        assert batches[0][0].tolist() == [[0.0, 1.0], [2.0, 3.0]]
        assert len(data.DataLoader(ds, batch_size=2, drop_last=True)) == 2
        cat = data.ConcatDataset([ds, ds])
        assert len(cat) == 10 and cat[7][1].item() == 2
        sub = data.Subset(ds, [4, 0])
        assert sub[0][1].item() == 4
        g = lib.Generator().manual_seed(0)
        parts = data.random_split(ds, [0.6, 0.4], generator=g)
        assert [len(p) for p in parts] == [3, 2]
        seen = sorted(i.item() for _, y in data.DataLoader(ds, batch_size=1, shuffle=True)
                      for i in y)
        assert seen == [0, 1, 2, 3, 4]
        dicts = data.DataLoader([{"a": 1.5, "b": lib.ones(2)}] * 3, batch_size=3)
        b = next(iter(dicts))
        assert b["a"].dtype == lib.float64 and tuple(b["b"].shape) == (3, 2)
        sampler = data.WeightedRandomSampler([0.0, 1.0, 0.0], 4)
        assert list(sampler) == [1, 1, 1, 1]

        class Stream(data.IterableDataset):
            def __iter__(self):
                return iter(range(5))

        assert [x.tolist() for x in data.DataLoader(Stream(), batch_size=2)] == \
            [[0, 1], [2, 3], [4]]
