"""The names added for PyTorch parity, each run on fastnn and on torch with the same inputs:
values, gradients, defaults and error messages compared (torch is a test-only peer; without it
these are skipped, and the other test files check the same names against known values)."""
import math
import pickle
import warnings

import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")
LIBS = (fastnn, torch)


def _np(value):
    if isinstance(value, (fastnn.Tensor, torch.Tensor)):
        return value.detach().numpy()
    return value


def _same(mine, theirs, rtol=1e-5, atol=1e-6):
    if isinstance(theirs, (tuple, list)):
        assert len(mine) == len(theirs)
        for m, t in zip(mine, theirs):
            _same(m, t, rtol, atol)
        return
    if isinstance(theirs, dict):
        assert mine.keys() == theirs.keys()
        for k in theirs:
            _same(mine[k], theirs[k], rtol, atol)
        return
    m, t = _np(mine), _np(theirs)
    if isinstance(t, np.ndarray):
        assert m.shape == t.shape and m.dtype == t.dtype
        np.testing.assert_allclose(m.astype(np.float64), t.astype(np.float64), rtol=rtol, atol=atol)
    else:
        assert m == t or (isinstance(t, float) and math.isclose(m, t, rel_tol=rtol))


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the class and words are what is compared
        return type(e).__name__, str(e)
    return None


def _counting(lib, n):
    class Counting(lib.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(n))
    return Counting()


def _run(case):
    return case(fastnn), case(torch)


# --- values and gradients -----------------------------------------------------------------------
def _grad_case(fn, values):
    def case(lib):
        x = lib.tensor(values, requires_grad=True)
        y = fn(lib, x)
        y.sum().backward()
        return y.detach(), x.grad
    return case


GRADIENT_CASES = {
    "asinh": _grad_case(lambda lib, x: lib.asinh(x), [0.5, -1.5, 3.0]),
    "acosh": _grad_case(lambda lib, x: lib.acosh(x), [1.5, 2.0, 4.0]),
    "atanh": _grad_case(lambda lib, x: lib.atanh(x), [0.5, -0.25, 0.9]),
    "erfc": _grad_case(lambda lib, x: lib.erfc(x), [0.5, -1.0, 3.0]),
    "rsub": _grad_case(lambda lib, x: lib.rsub(x, 5, alpha=2), [1.0, 2.0]),
    "index_put": _grad_case(lambda lib, x: lib.zeros(4).index_put(
        (lib.tensor([0, 0, 3]),), x, accumulate=True) * lib.tensor([1.0, 2.0, 3.0, 4.0]),
        [1.0, 2.0, 3.0]),
    "index_copy": _grad_case(lambda lib, x: lib.zeros(3, 2).index_copy(
        0, lib.tensor([2, 0]), x.reshape(2, 2)) * 3, [1.0, 2.0, 3.0, 4.0]),
    "masked_scatter": _grad_case(lambda lib, x: lib.zeros(2, 2).masked_scatter(
        lib.tensor([[True, False], [False, True]]), x) ** 2, [1.0, 2.0, 3.0]),
    "matrix_exp": _grad_case(lambda lib, x: lib.linalg.matrix_exp(x.reshape(2, 2)),
                             [0.1, 0.7, -0.4, 0.2]),
    "vander": _grad_case(lambda lib, x: lib.linalg.vander(x, N=3), [1.0, 2.0, 0.5]),
    "lstsq": _grad_case(lambda lib, x: lib.linalg.lstsq(
        x.reshape(3, 2), lib.tensor([[1.0], [2.0], [4.0]])).solution, [1.0, 0.0, 1.0, 1.0, 1.0, 2.0]),
    "cholesky": _grad_case(lambda lib, x: lib.linalg.cholesky(
        x.reshape(2, 2) @ x.reshape(2, 2).mT + lib.eye(2)), [1.0, 0.5, -0.3, 0.8]),
    "solve_triangular": _grad_case(lambda lib, x: lib.linalg.solve_triangular(
        x.reshape(2, 2).tril() + 2 * lib.eye(2), lib.ones(2, 1), upper=False),
        [1.0, 0.5, -0.3, 0.8]),
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_values_and_gradients(name):
    _same(*_run(GRADIENT_CASES[name]), rtol=1e-4, atol=1e-5)


VALUE_CASES = {
    "broadcast_shapes": lambda lib: tuple(lib.broadcast_shapes((2, 1), (1, 3), 3)),
    "can_cast": lambda lib: [lib.can_cast(a, b) for a in (lib.float32, lib.int64, lib.bool)
                             for b in (lib.float32, lib.int64, lib.bool)],
    "is_nonzero": lambda lib: lib.is_nonzero(lib.tensor([2.0])),
    "is_same_size": lambda lib: lib.is_same_size(lib.ones(2, 3), lib.ones(2, 3)),
    "typename": lambda lib: [lib.typename(lib.ones(1)).split(".")[-1],
                             lib.typename(lib.tensor([1])).split(".")[-1]],
    "scalar_tensor": lambda lib: lib.scalar_tensor(3),
    "fill": lambda lib: lib.fill(lib.zeros(2), 7),
    "range": lambda lib: lib.range(1, 4, 0.5),
    "conj_real": lambda lib: (lib.conj(lib.ones(2)), lib.real(lib.ones(2)),
                              lib.is_conj(lib.ones(2)), lib.is_complex(lib.ones(2))),
    "eq_": lambda lib: lib.tensor([1.0, 2.0, 3.0]).eq_(lib.tensor([1.0, 0.0, 3.0])),
    "multiply_": lambda lib: lib.tensor([1.0, 2.0]).multiply_(3).subtract_(1).divide_(2),
    "conv2d": lambda lib: lib.conv2d(lib.ones(1, 2, 4, 4), lib.ones(3, 2, 3, 3), None, 1, 1),
    "max_pool2d": lambda lib: lib.max_pool2d(lib.arange(16.0).reshape(1, 1, 4, 4), 2),
    "embedding": lambda lib: lib.embedding(lib.arange(6.0).reshape(3, 2), lib.tensor([2, 0])),
    "layer_norm": lambda lib: lib.layer_norm(lib.tensor([[1.0, 2.0, 4.0]]), (3,)),
    "kl_div": lambda lib: lib.kl_div(lib.tensor([0.3, 0.7]).log(), lib.tensor([0.5, 0.5]), 2),
    "cond": lambda lib: lib.linalg.cond(lib.tensor([[1.0, 2.0], [3.0, 4.0]])),
    "inv_ex": lambda lib: tuple(lib.linalg.inv_ex(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))),
    "cholesky_ex_info": lambda lib: lib.linalg.cholesky_ex(lib.tensor([[1.0, 2.0], [2.0, 1.0]])).info,
    "solve_ex": lambda lib: tuple(lib.linalg.solve_ex(lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                      lib.tensor([1.0, 1.0]))),
    "unpad_sequence": lambda lib: lib.nn.utils.rnn.unpad_sequence(
        lib.tensor([[1, 3], [2, 0]]), lib.tensor([2, 1])),
    "invert_permutation": lambda lib: lib.nn.utils.rnn.invert_permutation(lib.tensor([2, 0, 1])),
    "StackDataset": lambda lib: lib.utils.data.StackDataset(
        a=lib.arange(3), b=lib.arange(3) * 2)[2],
    "ChainDataset": lambda lib: list(lib.utils.data.ChainDataset([_counting(lib, 2),
                                                                  _counting(lib, 3)])),
    "default_convert": lambda lib: lib.utils.data.default_convert(
        {"x": np.ones(2), "y": [np.zeros(1, np.int32)]}),
    "get_worker_info": lambda lib: lib.utils.data.get_worker_info(),
    "version_cuda": lambda lib: lib.version.cuda,
    "cuda_memory": lambda lib: lib.cuda.memory_allocated(),
    "Variable": lambda lib: (lambda v: (v.requires_grad, isinstance(lib.ones(1),
                                                                     lib.autograd.Variable)))(
        lib.autograd.Variable(lib.ones(2), requires_grad=True)),
    "is_pinned": lambda lib: lib.ones(2).is_pinned(),
    "deterministic": lambda lib: (lib.use_deterministic_algorithms(True),
                                  lib.are_deterministic_algorithms_enabled(),
                                  lib.get_deterministic_debug_mode(),
                                  lib.use_deterministic_algorithms(False))[1:3],
    "matmul_precision": lambda lib: (lib.set_float32_matmul_precision("high"),
                                     lib.get_float32_matmul_precision(),
                                     lib.set_float32_matmul_precision("highest"))[1],
    "pickled_parameter": lambda lib: type(pickle.loads(pickle.dumps(
        lib.nn.Linear(2, 2))).weight).__name__,
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
def test_values(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(*_run(VALUE_CASES[name]))


ERROR_CASES = {
    "broadcast_shapes": lambda lib: lib.broadcast_shapes((2, 3), (4, 1, 2)),
    "is_nonzero_many": lambda lib: lib.is_nonzero(lib.tensor([1.0, 2.0])),
    "is_nonzero_none": lambda lib: lib.is_nonzero(lib.tensor([])),
    "imag": lambda lib: lib.imag(lib.ones(2)),
    "range_step": lambda lib: lib.range(0, 10, 0),
    "range_sign": lambda lib: lib.range(0, -10, 1),
    "cholesky": lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "inv": lambda lib: lib.linalg.inv(lib.zeros(2, 2)),
    "pin_memory": lambda lib: lib.ones(2).pin_memory(),
    "accelerator": lambda lib: lib.accelerator.current_device_index(),
    "scatter_reduce": lambda lib: lib.zeros(3).scatter(0, lib.tensor([0]), 1.0, reduce="max"),
    "scatter_index": lambda lib: lib.zeros(3, 5).scatter(0, lib.tensor([[5]]), lib.ones(2, 5)),
    "scatter_dtype": lambda lib: lib.zeros(3).scatter(0, lib.tensor([0.0]), lib.ones(1)),
    "masked_scatter": lambda lib: lib.zeros(2, 2).masked_scatter(
        lib.tensor([[True, False], [False, True]]), lib.tensor([7.0])),
    "fusion_train": lambda lib: lib.nn.utils.fusion.fuse_conv_bn_eval(
        lib.nn.Conv2d(1, 1, 1), lib.nn.BatchNorm2d(1)),
    "stack_dataset": lambda lib: lib.utils.data.StackDataset(lib.ones(2), lib.ones(3)),
    "vmap_random": lambda lib: lib.func.vmap(lambda r: r + lib.randn(2))(lib.ones(3, 2)),
    "grad_not_scalar": lambda lib: lib.func.grad(lambda v: v * 2)(lib.ones(2)),
    "functional_call_strict": lambda lib: lib.func.functional_call(
        lib.nn.Linear(2, 1), {"weight": lib.ones(1, 2)}, (lib.ones(1, 2),), strict=True),
    "hessian_not_scalar": lambda lib: lib.autograd.functional.hessian(lambda v: v * 2,
                                                                      lib.ones(2)),
    "gradscaler_double_unscale": lambda lib: (lambda s, o: (s.unscale_(o), s.unscale_(o)))(
        lib.amp.GradScaler("cpu"), lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)),
    "gradscaler_update_first": lambda lib: lib.amp.GradScaler("cpu").update(),
    "gradscaler_step_first": lambda lib: lib.amp.GradScaler("cpu").step(
        lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)),
    "gradscaler_unscale_twice": lambda lib: (lambda s, o: (s.scale(lib.ones(1)), s.unscale_(o),
                                                           s.unscale_(o)))(
        lib.amp.GradScaler("cpu"), lib.optim.SGD([lib.ones(1, requires_grad=True)], lr=0.1)),
    "chain_dataset_map_style": lambda lib: list(lib.utils.data.ChainDataset([range(2)])),
    "mvn_args": lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2)),
    "assert_close": lambda lib: lib.testing.assert_close(lib.ones(2), lib.ones(2) * 1.1),
}


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_error_class_and_message(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mine, theirs = _error(lambda: ERROR_CASES[name](fastnn)), \
            _error(lambda: ERROR_CASES[name](torch))
    assert theirs is not None
    assert mine == (theirs[0], theirs[1].replace("torch.", "fastnn."))


WARNING_CASES = {
    "xavier_uniform": lambda lib: lib.nn.init.xavier_uniform(lib.empty(2, 3)),
    "range": lambda lib: lib.range(0, 2),
    "gradscaler_cuda": lambda lib: lib.amp.GradScaler(),
    "cuda_amp_gradscaler": lambda lib: lib.cuda.amp.GradScaler(),
    "cpu_amp_gradscaler": lambda lib: lib.cpu.amp.GradScaler(),
    "pin_memory_loader": lambda lib: list(lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.arange(4.0)), batch_size=2, pin_memory=True)),
    "detect_anomaly": lambda lib: lib.autograd.detect_anomaly(),
    "gradcheck_float32": lambda lib: lib.autograd.gradcheck(
        lib.exp, (lib.ones(2, requires_grad=True),), eps=1e-3, atol=1e-2),
}


@pytest.mark.parametrize("name", sorted(WARNING_CASES))
def test_warnings(name):
    seen = []
    for lib in LIBS:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            WARNING_CASES[name](lib)
        seen.append([(w.category.__name__, str(w.message).split("\n")[0]
                      .replace("torch.", "fastnn."))
                     for w in record if "Triggered internally" not in str(w.message)
                     and w.category is not DeprecationWarning])
    assert seen[0] == seen[1]


def test_defaults_match_torch():
    import inspect
    pairs = [(fastnn.testing.assert_close, torch.testing.assert_close),
             (fastnn.autograd.gradcheck, torch.autograd.gradcheck),
             (fastnn.amp.GradScaler.__init__, torch.amp.GradScaler.__init__),
             (fastnn.func.vmap, torch.func.vmap), (fastnn.func.grad, torch.func.grad),
             (fastnn.func.functional_call, torch.func.functional_call),
             (fastnn.autograd.functional.hessian, torch.autograd.functional.hessian),
             (fastnn.nn.utils.fusion.fuse_conv_bn_eval, torch.nn.utils.fusion.fuse_conv_bn_eval),
             (fastnn.nn.SyncBatchNorm.__init__, torch.nn.SyncBatchNorm.__init__)]

    def defaults(fn):
        return {n: p.default for n, p in inspect.signature(fn).parameters.items()
                if p.default is not inspect.Parameter.empty}
    for mine, theirs in pairs:
        want = defaults(theirs)
        got = defaults(mine)
        common = {k: want[k] for k in want if k in got}
        assert {k: got[k] for k in common} == common, mine
