"""Older spellings programs still use (autograd.Variable, nn.init.xavier_uniform), data and RNN
helpers (StackDataset, ChainDataset, default_convert, get_worker_info, unpad_sequence,
invert_permutation), random.fork_rng, amp.custom_fwd/custom_bwd, and the rest of
torch.linalg's common surface (LinAlgError, *_ex, lstsq, matrix_exp, vander, cond)."""
import math
import warnings

import numpy as np
import pytest

import fastnn
from fastnn.autograd import Variable, gradcheck


def test_variable_is_a_tensor_alias():
    t = fastnn.ones(2)
    v = Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and not t.requires_grad
    assert isinstance(t, Variable) and type(v) is fastnn.Tensor
    v.data[0] = 5  # the same storage
    assert t[0].item() == 5
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(t, volatile=True)


def test_deprecated_init_names_warn_and_work():
    w = fastnn.empty(3, 4)
    with pytest.warns(FutureWarning, match="`nn.init.xavier_uniform` is now deprecated"):
        fastnn.nn.init.xavier_uniform(w)
    bound = math.sqrt(6 / 7)
    assert float(w.abs().max()) <= bound
    with pytest.warns(FutureWarning):
        fastnn.nn.init.constant(w, 0.5)
    assert w.eq(0.5).all()


def test_data_helpers():
    from fastnn.utils.data import (ChainDataset, StackDataset, TensorDataset, default_convert,
                                   get_worker_info)
    pairs = StackDataset(TensorDataset(fastnn.arange(3)), TensorDataset(fastnn.arange(3) * 2))
    assert len(pairs) == 3 and pairs[1][1][0].item() == 2
    named = StackDataset(a=fastnn.arange(3), b=fastnn.arange(3) * 2)
    assert named[2]["b"].item() == 4
    with pytest.raises(ValueError, match="Size mismatch"):
        StackDataset(fastnn.arange(3), fastnn.arange(4))
    class Counting(fastnn.utils.data.IterableDataset):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))
    assert list(ChainDataset([Counting(2), Counting(3)])) == [0, 1, 0, 1, 2]
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(ChainDataset([range(2)]))  # map-style datasets are refused, as torch
    assert get_worker_info() is None
    converted = default_convert({"x": np.ones(2), "y": [np.zeros(1)], "s": "text"})
    assert isinstance(converted["x"], fastnn.Tensor) and converted["x"].dtype == fastnn.float64
    assert isinstance(converted["y"][0], fastnn.Tensor) and converted["s"] == "text"


def test_rnn_helpers_and_fork_rng():
    from fastnn.nn.utils.rnn import invert_permutation, unpad_sequence
    parts = unpad_sequence(fastnn.tensor([[1, 3], [2, 0]]), fastnn.tensor([2, 1]))
    assert [p.tolist() for p in parts] == [[1, 2], [3]]
    assert invert_permutation(fastnn.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    fastnn.manual_seed(3)
    expected = fastnn.rand(2)
    fastnn.manual_seed(3)
    with fastnn.random.fork_rng():
        fastnn.manual_seed(99)
        fastnn.rand(5)
    assert fastnn.equal(fastnn.rand(2), expected)  # the draws inside changed nothing outside


class _Scaled(fastnn.autograd.Function):
    @staticmethod
    @fastnn.amp.custom_fwd(device_type="cpu", cast_inputs=fastnn.float32)
    def forward(ctx, x):
        ctx.dtype_seen = x.dtype
        return x * 2

    @staticmethod
    @fastnn.amp.custom_bwd(device_type="cpu")
    def backward(ctx, g):
        return g * 2


def test_custom_fwd_casts_inputs_and_turns_autocast_off():
    x = fastnn.ones(2, requires_grad=True)
    with fastnn.autocast("cpu", dtype=fastnn.bfloat16):
        y = _Scaled.apply(x.bfloat16())
    assert y.dtype == fastnn.float32
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert fastnn.amp.is_autocast_available("cpu") and not fastnn.amp.is_autocast_available("cuda")


def test_linalg_ex_variants_and_errors():
    ok = fastnn.linalg.cholesky_ex(fastnn.tensor([[4.0, 2.0], [2.0, 3.0]]))
    assert ok.info.item() == 0
    bad = fastnn.linalg.cholesky_ex(fastnn.tensor([[1.0, 2.0], [2.0, 1.0]]))
    assert bad.info.item() == 2 and bad.info.dtype == fastnn.int32
    with pytest.raises(fastnn.linalg.LinAlgError, match="leading minor of order 2"):
        fastnn.linalg.cholesky(fastnn.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(RuntimeError, match="singular"):
        fastnn.linalg.inv(fastnn.zeros(2, 2))
    assert fastnn.linalg.inv_ex(fastnn.zeros(2, 2)).info.item() != 0
    assert fastnn.linalg.solve_ex(fastnn.eye(2), fastnn.ones(2)).result.tolist() == [1.0, 1.0]


def test_lstsq_matrix_exp_vander_cond():
    A = fastnn.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    b = fastnn.tensor([[1.0], [2.0], [4.0]])
    result = fastnn.linalg.lstsq(A, b)
    np.testing.assert_allclose(result.solution.numpy().ravel(), [5 / 6, 1.5], rtol=1e-5)
    assert result.rank.item() == 2 and result.residuals.numel() == 0
    a64 = fastnn.tensor([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], dtype=fastnn.float64,
                        requires_grad=True)
    b64 = fastnn.tensor([[1.0], [2.0], [4.0]], dtype=fastnn.float64, requires_grad=True)
    assert gradcheck(lambda a, y: fastnn.linalg.lstsq(a, y).solution, (a64, b64))
    rotation = fastnn.linalg.matrix_exp(fastnn.tensor([[0.0, 1.0], [-1.0, 0.0]],
                                                      dtype=fastnn.float64))
    np.testing.assert_allclose(rotation.numpy(), [[math.cos(1), math.sin(1)],
                                                  [-math.sin(1), math.cos(1)]], rtol=1e-12)
    m = fastnn.tensor([[0.3, 1.5], [-0.7, 0.2]], dtype=fastnn.float64, requires_grad=True)
    assert gradcheck(fastnn.linalg.matrix_exp, (m * 4,))
    assert fastnn.linalg.vander(fastnn.tensor([1.0, 2.0, 3.0]), N=3).tolist() == \
        [[1, 1, 1], [1, 2, 4], [1, 3, 9]]
    np.testing.assert_allclose(fastnn.linalg.cond(fastnn.tensor([[1.0, 2.0], [3.0, 4.0]])).item(),
                               14.933034, rtol=1e-5)


def test_conv_and_linear_fused_with_their_batch_norm():
    from fastnn.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval
    fastnn.manual_seed(0)
    conv, bn = fastnn.nn.Conv2d(3, 4, 3, padding=1), fastnn.nn.BatchNorm2d(4)
    with fastnn.no_grad():
        bn.running_mean.copy_(fastnn.tensor([0.1, -0.2, 0.3, 0.0]))
        bn.running_var.copy_(fastnn.tensor([1.5, 0.5, 2.0, 1.0]))
        bn.weight.copy_(fastnn.tensor([0.5, 2.0, -1.0, 1.0]))
    conv.eval(), bn.eval()
    x = fastnn.randn(2, 3, 5, 5)
    np.testing.assert_allclose(fuse_conv_bn_eval(conv, bn)(x).detach().numpy(),
                               bn(conv(x)).detach().numpy(), atol=1e-5)
    linear, bn1 = fastnn.nn.Linear(3, 4), fastnn.nn.BatchNorm1d(4)
    linear.eval(), bn1.eval()
    xs = fastnn.randn(2, 3)
    np.testing.assert_allclose(fuse_linear_bn_eval(linear, bn1)(xs).detach().numpy(),
                               bn1(linear(xs)).detach().numpy(), atol=1e-5)
    conv.train()
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        fuse_conv_bn_eval(conv, bn)


def test_module_paths_programs_import_from():
    from fastnn.utils.data.dataloader import DataLoader, default_collate  # noqa: F401
    from fastnn.utils.data.distributed import DistributedSampler
    from fastnn.utils.data.sampler import BatchSampler, Sampler  # noqa: F401
    assert DistributedSampler is fastnn.utils.data.DistributedSampler
    assert fastnn.version.cuda is None and isinstance(fastnn.version.__version__, str)
    assert fastnn.cuda.memory_allocated() == 0
    with pytest.raises(AssertionError, match="not compiled with CUDA"):
        fastnn.cuda.set_device(0)


def test_pinned_memory_as_a_build_without_accelerators_answers():
    from fastnn.utils.data import DataLoader, TensorDataset
    assert not fastnn.ones(2).is_pinned()
    with pytest.raises(RuntimeError, match="Cannot access accelerator device"):
        fastnn.ones(2).pin_memory()
    loader = DataLoader(TensorDataset(fastnn.arange(4.0)), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="no accelerator is found"):
        batches = list(loader)
    assert len(batches) == 2


def test_default_collate_keeps_strings_as_the_batch_holds_them():
    """torch returns the strings of a sample field as the tuple zip made ((1, 'a'), (3, 'b')
    -> ('a', 'b')), and a top-level batch of strings as the list it was given."""
    from fastnn.utils.data import default_collate
    out = default_collate([(1, 2.0, "a"), (3, 4.0, "b")])
    assert out[2] == ("a", "b") and out[0].tolist() == [1, 3]
    assert default_collate(["a", "b"]) == ["a", "b"]
    assert default_collate([{"name": "x", "v": 1}, {"name": "y", "v": 2}])["name"] == ["x", "y"]
