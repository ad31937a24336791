"""The LSTM and GRU time-loop kernels (kernels/rnn.c, rnn_cells.h; contract.py's lstm_* and
gru_*) on every backend and instruction set against the NumPy reference
(fastnn/backend/reference_rnn.py): odd hidden sizes (the 16-cell blocks' remainders), one row,
one step, zero steps, reverse order, no b_hh; the compiled tanh and sigmoid against float64;
thread-count independence; a failed allocation; and nn.LSTM / nn.GRU against torch through
these kernels."""
import numpy as np
import pytest

import fastnn
from fastnn import _kernels, backend
from fastnn.backend import reference

from conftest import BACKENDS

ISAS = [isa for isa in ("generic", "avx2", "avx512") if _kernels.isa_supported(isa)]


def _problem(steps, batch, hidden, seed=0, bias=True, scale=0.5, dtype=np.float32):
    rng = np.random.default_rng(seed)
    f = lambda *s: (rng.standard_normal(s) * scale).astype(dtype)  # noqa: E731
    return dict(xw=f(steps, batch, 4 * hidden) * 3, w_hh_t=f(hidden, 4 * hidden),
                b_hh=f(4 * hidden) if bias else None, h0=f(batch, hidden), c0=f(batch, hidden),
                grad_out=f(steps, batch, hidden), dc=f(batch, hidden))


def _forward(p, reverse, name):
    steps, batch, hidden = p["xw"].shape[0], p["xw"].shape[1], p["w_hh_t"].shape[0]
    dtype = p["xw"].dtype
    out = dict(gates=np.full((steps, batch, 4 * hidden), np.nan, dtype))
    for key in ("cells", "tanh_c", "h_prev", "output"):
        out[key] = np.full((steps, batch, hidden), np.nan, dtype)
    backend.lstm_forward(p["xw"], p["w_hh_t"], p["b_hh"], p["h0"], p["c0"], out["gates"],
                         out["cells"], out["tanh_c"], out["h_prev"], out["output"], reverse,
                         backend=name)
    return out


def _backward(p, fwd, reverse, name):
    steps, batch, hidden = fwd["cells"].shape
    dc = p["dc"].copy()
    d_gates = np.full((steps, batch, 4 * hidden), np.nan, dc.dtype)
    dh = np.full((batch, hidden), np.nan, dc.dtype)
    w_hh = np.ascontiguousarray(p["w_hh_t"].T)
    backend.lstm_backward(p["grad_out"], dc, fwd["gates"], fwd["cells"], fwd["tanh_c"], p["c0"],
                          w_hh, d_gates, dh, reverse, backend=name)
    return dict(dc=dc, d_gates=d_gates, dh=dh)


def _assert_close(got, want):
    """atol: the gate sums are products over the hidden size with terms up to ~5, whose
    cancellation leaves a few 1e-6 of float32 rounding (the reference's NumPy tanh and the
    kernel's differ by an ulp, and a debug build's GEMM sums in another order); float64 the
    same, at its precision."""
    for key in want:
        tol = 1e-12 if want[key].dtype == np.float64 else 2e-5
        np.testing.assert_allclose(got[key], want[key], rtol=tol, atol=tol, err_msg=key)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("steps,batch,hidden", [(0, 3, 5), (1, 1, 1), (5, 3, 8), (4, 2, 17),
                                                (3, 7, 33), (6, 5, 48), (2, 1, 200)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lstm_kernels_match_the_reference(name, steps, batch, hidden, reverse, bias, dtype):
    p = _problem(steps, batch, hidden, seed=steps * 100 + hidden, bias=bias, dtype=dtype)
    want_f, got_f = _forward(p, reverse, "numpy"), _forward(p, reverse, name)
    _assert_close(got_f, want_f)
    # the backward of each from the same (reference) forward state
    _assert_close(_backward(p, want_f, reverse, name), _backward(p, want_f, reverse, "numpy"))


def _check_on_isa(isa, kernel, problem, forward, backward, reverse):
    """Forward and backward on the forced instruction set: that variant ran (and no other),
    the kernel's call counter moved, and both agree with the reference."""
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        before, calls = _kernels.isa_call_counts(), _kernels.call_counts()[kernel]
        fwd = forward(problem, reverse, "cython")
        bwd = backward(problem, fwd, reverse, "cython")
        after = _kernels.isa_call_counts()
    finally:
        _kernels.isa_force(previous)
    # float32: one call of each time loop; float64: one of each step's pointwise pass
    steps = problem["xw"].shape[0]
    assert _kernels.call_counts()[kernel] - calls == (2 if problem["xw"].dtype == np.float32
                                                      else 2 * steps)
    assert after[isa] > before[isa]
    assert all(after[other] == before[other] for other in after if other != isa)
    want_f = forward(problem, reverse, "numpy")
    _assert_close(fwd, want_f)
    _assert_close(bwd, backward(problem, want_f, reverse, "numpy"))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("hidden", [5, 16, 37])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_instruction_set_runs_and_agrees(isa, hidden, dtype):
    _check_on_isa(isa, "lstm", _problem(4, 3, hidden, seed=hidden, dtype=dtype), _forward,
                  _backward, False)


def _ulps(got, want):
    """|got - want| in units of the last place of want rounded to float32."""
    return np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want).astype(np.float32))


@pytest.mark.parametrize("isa", ISAS)
def test_the_compiled_tanh_and_sigmoid_are_within_two_ulps(isa):
    """With W_hh = 0 and h0 = c0 = 0 the gates are the activations of xw alone: g = tanh(x)
    and i, f, o = sigmoid(x) = tanh(x/2)/2 + 1/2 (the reference's formula), over every float32
    step of [-0.01, 0.01], a dense grid to 12, both signs, and the special values."""
    grid = np.concatenate([np.arange(-0.01, 0.01, 1e-6), np.linspace(-12, 12, 400_001),
                           [0.0, -0.0, 1e-38, -1e-38, 1e-45, 0.625, -0.625, 9.0, 9.5, 88.0,
                            -100.0, 3e38, -3e38]]).astype(np.float32)
    hidden = 256
    grid = np.concatenate([grid, np.zeros(-grid.size % hidden, np.float32)])
    rows = grid.size // hidden
    xw = np.repeat(grid.reshape(rows, 1, hidden), 4, axis=1).reshape(1, rows, 4 * hidden)
    zeros = np.zeros((rows, hidden), np.float32)
    out = {k: np.empty((1, rows, hidden), np.float32) for k in ("cells", "tanh_c", "h_prev",
                                                                "output")}
    gates = np.empty((1, rows, 4 * hidden), np.float32)
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        backend.lstm_forward(np.ascontiguousarray(xw), np.zeros((hidden, 4 * hidden), np.float32),
                             None, zeros, zeros, gates, out["cells"], out["tanh_c"], out["h_prev"],
                             out["output"], False, backend="cython")
    finally:
        _kernels.isa_force(previous)
    x = grid.reshape(rows, hidden).astype(np.float64)
    g = gates.reshape(rows, 4, hidden)
    tanh = np.tanh(x)
    assert _ulps(g[:, 2], tanh).max() <= 2
    # the odd function's sign (the gate's sum 0 + x turns -0 into +0, as in NumPy)
    assert np.array_equal(np.signbit(g[:, 2]), np.signbit(np.float32(0) + x.astype(np.float32)))
    sigmoid = np.tanh(x / 2) / 2 + 0.5
    for k in (0, 1, 3):
        assert np.abs(g[:, k] - sigmoid).max() <= 1.2e-7  # one float32 step below 1
    # special values: NaN stays NaN, infinities saturate
    special = np.array([np.nan, np.inf, -np.inf, -np.nan], np.float32)
    xs = np.zeros((1, 1, 4 * 4), np.float32)
    xs[0, 0, 8:12] = special
    gs = np.empty((1, 1, 16), np.float32)
    small = {k: np.empty((1, 1, 4), np.float32) for k in ("cells", "tanh_c", "h_prev", "output")}
    backend.lstm_forward(xs, np.zeros((4, 16), np.float32), None, np.zeros((1, 4), np.float32),
                         np.zeros((1, 4), np.float32), gs, small["cells"], small["tanh_c"],
                         small["h_prev"], small["output"], False, backend="cython")
    np.testing.assert_array_equal(gs[0, 0, 8:12], [np.nan, 1.0, -1.0, np.nan])


@pytest.mark.parametrize("isa", ISAS)
def test_the_float64_tanh_and_sigmoid_are_within_a_few_ulps(isa):
    """The float64 pass's own exp, tanh and sigmoid (kernels/rnn_lanes_f64.h), read off the
    gates as in the float32 test: against NumPy's tanh and 1 / (1 + exp(-x)) over a grid across
    the small-argument branch (|x| < 0.625), the clamps (20 for tanh, 708 for exp) and the
    special values."""
    grid = np.concatenate([np.linspace(-1e-3, 1e-3, 20_001), np.linspace(-25, 25, 500_001),
                           [0.0, -0.0, 1e-300, -1e-300, 5e-324, 0.625, -0.625, np.nextafter(
                               0.625, 0), 20.0, 30.0, -700.0, 700.0, 1e300, -1e300]])
    hidden = 256
    grid = np.concatenate([grid, np.zeros(-grid.size % hidden)])
    rows = grid.size // hidden
    xw = np.ascontiguousarray(np.repeat(grid.reshape(rows, 1, hidden), 4, axis=1).reshape(
        1, rows, 4 * hidden))
    zeros = np.zeros((rows, hidden))
    out = {k: np.empty((1, rows, hidden)) for k in ("cells", "tanh_c", "h_prev", "output")}
    gates = np.empty((1, rows, 4 * hidden))
    previous = _kernels.isa_active()
    try:
        _kernels.isa_force(isa)
        backend.lstm_forward(xw, np.zeros((hidden, 4 * hidden)), None, zeros, zeros, gates,
                             out["cells"], out["tanh_c"], out["h_prev"], out["output"], False,
                             backend="cython")
    finally:
        _kernels.isa_force(previous)
    x = grid.reshape(rows, hidden)
    g = gates.reshape(rows, 4, hidden)
    ulp = lambda got, want: np.abs(got - want) / np.spacing(np.abs(want))  # noqa: E731
    assert ulp(g[:, 2], np.tanh(x)).max() <= 3
    assert np.array_equal(np.signbit(g[:, 2]), np.signbit(0.0 + x))
    with np.errstate(over="ignore"):
        sigmoid = 1 / (1 + np.exp(-x))
    normal = x >= -708  # (below, e^x is near the denormals: the clamp leaves 0 or 1e-308)
    for k in (0, 1, 3):
        assert ulp(g[:, k][normal], sigmoid[normal]).max() <= 4
        assert (g[:, k][~normal] <= 1.3e-308).all()
    special = np.array([np.nan, np.inf, -np.inf, -np.nan])
    xs = np.zeros((1, 1, 16))
    xs[0, 0, 8:12] = special
    xs[0, 0, 0:4] = special
    gs = np.empty((1, 1, 16))
    small = {k: np.empty((1, 1, 4)) for k in ("cells", "tanh_c", "h_prev", "output")}
    backend.lstm_forward(xs, np.zeros((4, 16)), None, np.zeros((1, 4)), np.zeros((1, 4)), gs,
                         small["cells"], small["tanh_c"], small["h_prev"], small["output"], False,
                         backend="cython")
    np.testing.assert_array_equal(gs[0, 0, 8:12], [np.nan, 1.0, -1.0, np.nan])
    np.testing.assert_array_equal(gs[0, 0, 0:4], [np.nan, 1.0, 0.0, np.nan])


@pytest.mark.parametrize("reverse", [False, True])
def test_same_bits_on_one_and_two_threads(reverse):
    """Each cell is computed by one lane whatever the split, and GEMM's bits do not depend on
    the thread count: 64 x 200 cells a step are split over the threads (LSTM_CELLS_PARALLEL_MIN)."""
    p = _problem(6, 64, 200, seed=3)
    results = []
    previous = fastnn.get_num_threads()
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            fwd = _forward(p, reverse, "cython")
            results.append((fwd, _backward(p, fwd, reverse, "cython")))
    finally:
        fastnn.set_num_threads(previous)
    for key in results[0][0]:
        assert np.array_equal(results[0][0][key], results[1][0][key]), key
    for key in results[0][1]:
        assert np.array_equal(results[0][1][key], results[1][1][key]), key


def test_backward_of_zero_steps_gives_zero_dh_and_keeps_dc():
    p = _problem(0, 3, 4)
    fwd = _forward(p, False, "numpy")
    for name in BACKENDS:
        got = _backward(p, fwd, False, name)
        np.testing.assert_array_equal(got["dh"], 0)
        np.testing.assert_array_equal(got["dc"], p["dc"])


def test_the_reference_is_the_documented_recurrence():
    """reference_rnn's loop against the formulas written out with float64 NumPy."""
    p = _problem(3, 2, 4, seed=7)
    got = _forward(p, False, "numpy")
    h, c = p["h0"].astype(np.float64), p["c0"].astype(np.float64)
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    for t in range(3):
        pre = h @ p["w_hh_t"] + p["b_hh"] + p["xw"][t]
        i, f, g, o = sig(pre[:, :4]), sig(pre[:, 4:8]), np.tanh(pre[:, 8:12]), sig(pre[:, 12:])
        c = f * c + i * g
        h = o * np.tanh(c)
        np.testing.assert_allclose(got["cells"][t], c, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got["output"][t], h, rtol=1e-5, atol=1e-6)
    assert reference.lstm_forward is not None


def _paired_modules(torch, cls, batch_first, bidirectional):
    """fastnn's and torch's 2-layer cls(10, 37) with the same weights (hidden 37: a remainder
    of 5 cells per row)."""
    kwargs = dict(num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    ours = getattr(fastnn.nn, cls)(10, 37, **kwargs)
    theirs = getattr(torch.nn, cls)(10, 37, **kwargs)
    with torch.no_grad():
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy()))
    return ours, theirs


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch_first,bidirectional", [(False, False), (True, True)])
def test_lstm_module_matches_torch(threads, batch_first, bidirectional):
    """nn.LSTM (2 layers, hidden 37: a remainder of 5 cells per row) forward and every gradient
    against torch's, with the compiled time loop."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    shape = (4, 9, 10) if batch_first else (9, 4, 10)
    x = rng.standard_normal(shape).astype(np.float32)
    ours, theirs = _paired_modules(torch, "LSTM", batch_first, bidirectional)
    previous = fastnn.get_num_threads()
    fastnn.set_num_threads(threads)
    try:
        before = _kernels.call_counts()["lstm"]
        xo = fastnn.tensor(x, requires_grad=True)
        out, (h, c) = ours(xo)
        (out.sum() + 2 * h.sum() + 3 * c.sum()).backward()
        assert _kernels.call_counts()["lstm"] - before == (4 if bidirectional else 2) * 2
    finally:
        fastnn.set_num_threads(previous)
    xt = torch.from_numpy(x).requires_grad_()
    out_t, (h_t, c_t) = theirs(xt)
    (out_t.sum() + 2 * h_t.sum() + 3 * c_t.sum()).backward()
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.detach().numpy(), c_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)


def test_a_failed_allocation_inside_the_loop_raises_memory_error():
    """The per-step GEMM allocates its packing buffer in a thread that has none yet; when that
    fails the kernel stops and the wrapper raises MemoryError naming it (no half-filled output
    is returned as a result)."""
    import threading
    p = _problem(2, 300, 100, seed=5)  # 300 rows: the packed GEMM, which allocates
    errors = []

    def run():
        _kernels.fail_next_allocations(1)
        try:
            _forward(p, False, "cython")
        except MemoryError as exc:
            errors.append(exc)
        finally:
            _kernels.fail_next_allocations(0)
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert errors and "lstm_forward" in str(errors[0])
    _assert_close(_forward(p, False, "cython"), _forward(p, False, "numpy"))  # and then works


# --- the GRU's kernels -----------------------------------------------------------------------
def _gru_problem(steps, batch, hidden, seed=0, bias=True, dtype=np.float32):
    rng = np.random.default_rng(seed)
    f = lambda *s: (rng.standard_normal(s) * 0.5).astype(dtype)  # noqa: E731
    return dict(xw=f(steps, batch, 3 * hidden) * 3, w_hh_t=f(hidden, 3 * hidden),
                b_hh=f(3 * hidden) if bias else None, h0=f(batch, hidden),
                grad_out=f(steps, batch, hidden))


def _gru_forward(p, reverse, name):
    steps, batch, hidden = p["xw"].shape[0], p["xw"].shape[1], p["w_hh_t"].shape[0]
    dtype = p["xw"].dtype
    out = dict(gates=np.full((steps, batch, 3 * hidden), np.nan, dtype))
    for key in ("hn", "h_prev", "output"):
        out[key] = np.full((steps, batch, hidden), np.nan, dtype)
    backend.gru_forward(p["xw"], p["w_hh_t"], p["b_hh"], p["h0"], out["gates"], out["hn"],
                        out["h_prev"], out["output"], reverse, backend=name)
    return out


def _gru_backward(p, fwd, reverse, name):
    steps, batch, hidden = fwd["hn"].shape
    dtype = p["xw"].dtype
    got = dict(d_xw=np.full((steps, batch, 3 * hidden), np.nan, dtype),
               d_hw=np.full((steps, batch, 3 * hidden), np.nan, dtype),
               dh=np.full((batch, hidden), np.nan, dtype))
    backend.gru_backward(p["grad_out"], fwd["gates"], fwd["hn"], fwd["h_prev"],
                         np.ascontiguousarray(p["w_hh_t"].T), got["d_xw"], got["d_hw"],
                         got["dh"], reverse, backend=name)
    return got


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("steps,batch,hidden", [(0, 3, 5), (1, 1, 1), (5, 3, 8), (4, 2, 17),
                                                (3, 7, 33), (2, 1, 200)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_kernels_match_the_reference(name, steps, batch, hidden, reverse, bias, dtype):
    p = _gru_problem(steps, batch, hidden, seed=steps * 100 + hidden, bias=bias, dtype=dtype)
    want_f, got_f = _gru_forward(p, reverse, "numpy"), _gru_forward(p, reverse, name)
    _assert_close(got_f, want_f)
    _assert_close(_gru_backward(p, want_f, reverse, name),
                  _gru_backward(p, want_f, reverse, "numpy"))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gru_each_instruction_set_runs_and_agrees(isa, dtype):
    _check_on_isa(isa, "gru", _gru_problem(4, 3, 37, seed=1, dtype=dtype), _gru_forward,
                  _gru_backward, True)


def test_gru_same_bits_on_one_and_two_threads():
    p = _gru_problem(5, 64, 200, seed=4)
    results = []
    previous = fastnn.get_num_threads()
    try:
        for threads in (1, 2):
            fastnn.set_num_threads(threads)
            fwd = _gru_forward(p, False, "cython")
            results.append({**fwd, **_gru_backward(p, fwd, False, "cython")})
    finally:
        fastnn.set_num_threads(previous)
    for key in results[0]:
        assert np.array_equal(results[0][key], results[1][key]), key


def test_gru_backward_of_zero_steps_gives_zero_dh():
    p = _gru_problem(0, 3, 4)
    fwd = _gru_forward(p, False, "numpy")
    for name in BACKENDS:
        np.testing.assert_array_equal(_gru_backward(p, fwd, False, name)["dh"], 0)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch_first,bidirectional", [(False, False), (True, True)])
def test_gru_module_matches_torch(threads, batch_first, bidirectional):
    """nn.GRU (2 layers, hidden 37) forward and every gradient against torch's, with the
    compiled time loop."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    shape = (4, 9, 10) if batch_first else (9, 4, 10)
    x = rng.standard_normal(shape).astype(np.float32)
    h0 = rng.standard_normal((4 if bidirectional else 2, 4, 37)).astype(np.float32)
    ours, theirs = _paired_modules(torch, "GRU", batch_first, bidirectional)
    previous = fastnn.get_num_threads()
    fastnn.set_num_threads(threads)
    try:
        before = _kernels.call_counts()["gru"]
        xo, ho = fastnn.tensor(x, requires_grad=True), fastnn.tensor(h0, requires_grad=True)
        out, h = ours(xo, ho)
        (out.sum() + 2 * h.sum()).backward()
        assert _kernels.call_counts()["gru"] - before == (4 if bidirectional else 2) * 2
    finally:
        fastnn.set_num_threads(previous)
    xt, ht = torch.from_numpy(x).requires_grad_(), torch.from_numpy(h0).requires_grad_()
    out_t, h_t = theirs(xt, ht)
    (out_t.sum() + 2 * h_t.sum()).backward()
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h.detach().numpy(), h_t.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ho.grad.numpy(), ht.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4,
                                   err_msg=name)
