"""torch.broadcast_tensors, torch.unravel_index, torch.sinc and torch.linalg's matmul, cross,
diagonal, matrix_power, vecdot and multi_dot: values, gradients and errors against torch."""
import numpy as np
import fastnn
from conftest import requires_torch
from gradcheck import check_op, raised

try:
    import torch
except ImportError:
    torch = None


@requires_torch
def test_broadcast_tensors_and_unravel_index_match_torch():
    def run(m):
        out = [t.numpy() for t in m.broadcast_tensors(m.zeros(2, 1), m.arange(3.0),
                                                      m.ones(1, 1, 1))]
        for shape in ((2, 4), (3, 1, 5), 7):  # flat indices outside the size wrap, as torch's
            out += [t.numpy() for t in m.unravel_index(m.tensor([9, -1, 17, 4, 0]), shape)]
        return out
    for got, want in zip(run(fastnn), run(torch)):
        np.testing.assert_array_equal(got, want)
        assert got.dtype == want.dtype


@requires_torch
def test_sinc_matches_torch_and_finite_differences():
    x = np.array([0.5, 1.0, -2.3, 0.25, 3.7])
    check_op(fastnn.sinc, [x], torch_fn=torch.sinc)
    t = fastnn.tensor([0.0, 1e-4], requires_grad=True)
    fastnn.sinc(t).sum().backward()
    assert np.isfinite(t.grad.numpy()).all() and fastnn.sinc(fastnn.tensor(0.0)).item() == 1.0


@requires_torch
def test_linalg_helpers_match_torch():
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    sq = rng.standard_normal((3, 3))
    for name, fn in [("multi_dot", lambda m: m.linalg.multi_dot([m.tensor(a), m.tensor(b),
                                                                 m.tensor(v)])),
                     ("vecdot", lambda m: m.linalg.vecdot(m.tensor(a), m.tensor(a))),
                     ("matrix_power", lambda m: m.linalg.matrix_power(m.tensor(sq), 3)),
                     ("diagonal", lambda m: m.linalg.diagonal(m.tensor(sq), offset=1)),
                     ("matmul", lambda m: m.linalg.matmul(m.tensor(a), m.tensor(b))),
                     ("cross", lambda m: m.linalg.cross(m.tensor(sq), m.tensor(sq.T)))]:
        np.testing.assert_allclose(fn(fastnn).numpy(), fn(torch).numpy(), rtol=1e-12,
                                   err_msg=name)


@requires_torch
def test_errors_are_torchs():
    def errors(m):
        a = m.zeros(2, 3)
        return raised([lambda: m.broadcast_tensors(m.zeros(2), m.zeros(3)),
                       lambda: m.unravel_index(m.tensor([1.0]), (2, 4)),
                       lambda: m.linalg.multi_dot([a]),
                       lambda: m.linalg.multi_dot([m.zeros(2, 2, 2), a]),
                       lambda: m.linalg.multi_dot([a, m.zeros(3, 3, 3), m.zeros(3, 2)]),
                       lambda: m.linalg.cross(m.ones(2), m.ones(2)),
                       lambda: m.linalg.cross(a, a, dim=0),
                       lambda: m.cross(m.ones(2, 4), m.ones(2, 4)),
                       lambda: m.cross(a, m.ones(3)),
                       lambda: m.linalg.cross(a, m.ones(3)),
                       lambda: m.cross(m.ones(3, 3, dtype=m.int64), m.ones(3, 3), dim=1),
                       lambda: m.cross(m.ones(3), m.ones(3), dim=1)])
    assert errors(fastnn) == errors(torch)


def test_cross_without_dim_warns_once_as_torch():
    """The intro-to-tensors tutorial calls torch.cross(v2, v1): torch computes it along the first
    size-3 dimension and says, once per process, that leaving out dim is deprecated."""
    import warnings
    from fastnn.ops import products
    products._WARNED_CROSS_DIM = False
    v1, v2 = fastnn.tensor([1.0, 0.0, 0.0]), fastnn.tensor([0.0, 1.0, 0.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = fastnn.cross(v2, v1)
        fastnn.cross(v2, v1)
        v2.cross(v1, dim=0)
    assert first.tolist() == [0.0, 0.0, -1.0]
    assert [str(w.message).splitlines()[0] for w in caught] == [
        "Using torch.cross without specifying the dim arg is deprecated."]


def test_where_of_two_numbers_takes_torchs_dtype():
    """pytorch/examples' siamese network: pred = torch.where(outputs > 0.5, 1, 0); a float
    number gives the default dtype, not float64."""
    import numpy as np
    cond = fastnn.tensor([True, False])
    cases = [((1.0, 0), fastnn.float32), ((1, 0), fastnn.int64), ((True, False), fastnn.bool),
             ((1.5, 2.5), fastnn.float32), ((np.float64(1), 0), fastnn.float32)]
    for (a, b), dtype in cases:
        out = fastnn.where(cond, a, b)
        assert out.dtype == dtype and out.tolist() == [a, b], (a, b)


def test_deprecated_alpha_first_overloads_still_work():
    """Older optimizers and the char-RNN tutorial write p.data.add_(-lr, p.grad.data) and
    exp_avg_sq.addcmul_(1 - beta2, grad, grad): torch still accepts them, with a warning."""
    import warnings
    x = fastnn.ones(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x.add_(2, fastnn.ones(3))
        x.sub_(1, fastnn.ones(3))
        x.addcmul_(2, fastnn.ones(3), fastnn.full((3,), 3.0))
        x.addcdiv_(4, fastnn.ones(3), fastnn.full((3,), 2.0))
        y = fastnn.add(x, 3, fastnn.ones(3))
        z = x.add(2, fastnn.ones(3))
    assert x.tolist() == [10.0] * 3 and y.tolist() == [13.0] * 3 and z.tolist() == [12.0] * 3
    assert all("This overload of" in str(w.message) for w in caught) and len(caught) == 6


@requires_torch
def test_indexing_a_0_dim_tensor_raises_torchs_errors():
    def outcomes(lib):
        x = lib.tensor(1.5)
        found = []
        for index in (0, (0,), slice(None), None, Ellipsis, lib.tensor(0), True):
            try:
                found.append(tuple(x[index].shape))
            except IndexError as exc:
                found.append(str(exc))
        return found
    assert outcomes(fastnn) == outcomes(torch)


@requires_torch
def test_softmax_family_without_dim_warns_and_picks_torchs_dim():
    """The Building Models tutorial makes torch.nn.Softmax() with no dim: torch picks dim 0 for
    0-, 1- and 3-D inputs and 1 otherwise, and warns that the implicit choice is deprecated."""
    import warnings
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4,), (2, 3), (3, 4, 5),
                                                                  (2, 3, 2, 2))]

    def run(m):
        F = m.nn.functional
        calls = [F.softmax, F.log_softmax, F.softmin, m.nn.Softmax(), m.nn.LogSoftmax(),
                 m.nn.Softmin(), lambda x: F.softmin(x, 1 if x.ndim > 1 else 0,
                                                     dtype=m.float64)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [call(m.tensor(a)).numpy() for call in calls for a in arrays]
        return values, sorted({str(c.message) for c in caught})
    (got, got_warnings), (want, want_warnings) = run(fastnn), run(torch)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
    assert got_warnings == want_warnings and len(want_warnings) == 3


@requires_torch
def test_torch_functional_module_has_torchs_names():
    """`import torch.functional as F` (the Building Models tutorial) is a module of torch-level
    functions with nn.functional as its F."""
    import fastnn.functional as ours
    import torch.functional as theirs
    missing = {"stft", "istft", "pca_lowrank", "svd_lowrank"}  # not implemented in fastnn
    assert set(ours.__all__) == set(theirs.__all__) - missing
    assert ours.F is fastnn.nn.functional and not hasattr(ours, "max_pool2d")
    a = np.arange(6.0).reshape(2, 3)
    got = ours.einsum("ij,kj->ik", fastnn.tensor(a), fastnn.tensor(a)).numpy()
    np.testing.assert_array_equal(got, theirs.einsum("ij,kj->ik", torch.tensor(a),
                                                     torch.tensor(a)).numpy())


@requires_torch
def test_kl_div_mean_reduction_warns_as_torch():
    """Knowledge-distillation code calls F.kl_div with the default reduction='mean': torch warns
    that it divides by the support size too; 'batchmean', 'sum' and the legacy flags do not."""
    import warnings
    rng = np.random.default_rng(2)
    logits, target = rng.standard_normal((4, 5)), rng.dirichlet(np.ones(5), 4)

    def run(m):
        F, x, y = m.nn.functional, m.tensor(logits).log_softmax(1), m.tensor(target)
        calls = [lambda: F.kl_div(x, y), lambda: F.kl_div(x, y, reduction="batchmean"),
                 lambda: F.kl_div(x, y, reduction="sum"), lambda: F.kl_div(x, y, size_average=False),
                 lambda: m.nn.KLDivLoss()(x, y)]
        out = []
        for call in calls:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                value = call().item()
            out.append((round(value, 12), [str(c.message) for c in caught]))
        return out
    assert run(fastnn) == run(torch)


@requires_torch
def test_sum_and_mean_dtype_argument_as_torch():
    """d2l's appendix writes torch.mean(mask.float(), dtype=torch.float64): sum, mean, nansum and
    nanmean cast the input to dtype first (an integer sum stays in that dtype, wrapping), and
    mean refuses an integer dtype in torch's words."""
    def run(m):
        x8 = m.tensor([100, 100, 7], dtype=m.int8)
        xi, xb = m.tensor([[1, 2], [3, 4]]), m.tensor([True, False, True])
        xh = m.tensor([1e4, 1.0, 3.5], dtype=m.float16)
        xn = m.tensor([1.0, float("nan"), 2.0])
        calls = [lambda: m.sum(x8, dtype=m.int8), lambda: m.sum(x8, dtype=m.int16),
                 lambda: x8.sum(dtype=m.float32), lambda: m.sum(xi, 1, dtype=m.float64),
                 lambda: m.sum(xi, dim=0, keepdim=True, dtype=m.int32),
                 lambda: m.mean(xi, dtype=m.float64), lambda: m.mean(xi, 0, dtype=m.float32),
                 lambda: xi.mean(1, True, dtype=m.float64), lambda: m.sum(xh, dtype=m.float32),
                 lambda: m.mean(xh, dtype=m.float64), lambda: m.sum(xb, dtype=m.int32),
                 lambda: m.nansum(xn, dtype=m.float64), lambda: m.nanmean(xn, dtype=m.float64),
                 lambda: m.sum(xn, dtype=m.int64), lambda: xi.sum(dtype=m.bool)]
        out = [(str(r.dtype).split(".")[-1], r.tolist()) for r in (c() for c in calls)]
        return out + raised([lambda: m.mean(xi), lambda: m.mean(xi.float(), dtype=m.int64)])
    assert run(fastnn) == run(torch)


@requires_torch
def test_calls_missing_their_sizes_or_dim_as_torch():
    """torch.softmax needs dim (only F.softmax infers it); view(), repeat() and expand() with no
    sizes are TypeErrors; expand's message names the tensor's type; x.squeeze(0, 2) squeezes
    both dims."""
    def run(m):
        x, y = m.ones(3), m.ones(1, 3, 1, dtype=m.float64)
        out = raised([lambda: m.softmax(x), lambda: m.log_softmax(x), lambda: x.view(),
                      lambda: x.repeat(), lambda: x.expand(), lambda: y.expand(3),
                      lambda: y.squeeze(0, 5)])
        out.append(tuple(y.squeeze(0, 2).shape))
        out.append(m.softmax(x, 0, dtype=m.float64).dtype == m.float64)
        z = y.clone()
        z.squeeze_(0, 2)
        return out + [tuple(z.shape)]
    assert run(fastnn) == run(torch)
