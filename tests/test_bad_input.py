"""Bad input gets a clear Python exception, never a crash or an out-of-bounds access."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn import backend
from conftest import BACKENDS


def test_matmul_shape_error_reads_like_pytorch(backend_name):
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x10 and 8x5\)"):
        fastnn.randn(4, 10) @ fastnn.randn(8, 5)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x10 and 8x5\)"):
        F.linear(fastnn.randn(4, 10), fastnn.randn(5, 8))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        fastnn.nn.Linear(8, 5)(fastnn.randn(4, 10))


@pytest.mark.parametrize("label", [-1, 10, 2**40, -(2**62)])
def test_out_of_range_labels_raise(backend_name, label):
    logits = fastnn.randn(3, 10, requires_grad=True)
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(logits, fastnn.tensor([0, label, 1]))


def test_mismatched_batch_sizes_raise(backend_name):
    with pytest.raises(ValueError, match=r"input batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(fastnn.randn(3, 10), fastnn.tensor([0, 1]))


def test_float_labels_of_the_wrong_shape_raise_like_torch():
    """Float targets are class probabilities (same shape as the input); float class indices
    get torch's message."""
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got "
                                           "Float"):
        F.cross_entropy(fastnn.randn(2, 3), fastnn.tensor([0.0, 1.0]))


def test_dtypes_follow_torch_and_kernels_refuse_what_they_do_not_run():
    t = fastnn.tensor(np.ones((2, 3), dtype=np.float64))
    assert t.dtype == fastnn.float64  # NumPy arrays keep their dtype, as in torch
    i = fastnn.tensor([[1, 2], [3, 4]])
    assert i.dtype == fastnn.int64
    assert (i @ i).tolist() == [[7, 10], [15, 22]]  # integer matmul runs on NumPy
    assert fastnn.relu(i - 2).tolist() == [[0, 0], [1, 2]]
    with pytest.raises(RuntimeError, match="same dtype"):
        t.T @ fastnn.ones(2, 3)
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got "
                                           "Double and Float"):
        fastnn.nn.Linear(3, 2)(t)
    with pytest.raises((TypeError, RuntimeError)):
        F.cross_entropy(i, fastnn.tensor([0, 1]))
    for name in BACKENDS:
        with pytest.raises(TypeError, match="mat1 must be float32"):
            backend.gemm(np.ones((2, 2)), np.ones((2, 2), np.float32), backend=name)
        with pytest.raises(TypeError, match="float32"):
            backend.relu_forward(np.ones(3, dtype=np.float64), backend=name)


def test_kernel_outputs_are_validated():
    a = np.ones((2, 3), np.float32)
    b = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="out must have shape"):
        backend.gemm(a, b, out=np.empty((2, 5), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        backend.gemm(a, b, out=np.empty((4, 2), np.float32).T)
    with pytest.raises(ValueError, match="bias must have shape"):
        backend.gemm(a, b, bias=np.ones(3, np.float32))
    with pytest.raises(ValueError, match="overlap"):
        c = np.ones((3, 3), np.float32)
        backend.gemm(c, c, out=c)
    with pytest.raises(ValueError, match="has shape"):
        backend.relu_backward(np.ones(3, np.float32), np.ones(4, np.float32))


def test_nan_logits_give_nan_loss_not_a_crash(backend_name):
    x = fastnn.tensor([[np.nan, 1.0], [0.5, 2.0]], requires_grad=True)
    loss = F.cross_entropy(x, fastnn.tensor([0, 1]))
    loss.backward()
    assert np.isnan(loss.item())


def test_unknown_backend_raises():
    with pytest.raises(ValueError, match="unknown backend 'cuda'"):
        backend.use("cuda")


@pytest.mark.parametrize("n", [0, -1])
def test_set_num_threads_below_one_raises(n):
    with pytest.raises(ValueError, match="positive"):
        fastnn.set_num_threads(n)


def test_set_num_threads_needs_an_int():
    with pytest.raises(TypeError):
        fastnn.set_num_threads(1.5)


def test_bad_reduction_raises():
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        fastnn.nn.CrossEntropyLoss(reduction="avg")


def test_reshape_to_an_impossible_shape_raises():
    with pytest.raises(RuntimeError, match="invalid for input of size 12"):
        fastnn.randn(3, 4).view(5, -1)


def test_from_numpy_shares_every_torch_dtype_and_refuses_the_rest():
    d = np.zeros(3)
    fastnn.from_numpy(d)[1] = 2.0
    assert d[1] == 2.0 and fastnn.from_numpy(d).dtype == fastnn.float64
    assert fastnn.from_numpy(np.zeros(3, np.complex128)).dtype is fastnn.complex128
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.float128"):
        fastnn.from_numpy(np.zeros(3, np.longdouble))
    a = np.zeros(3, np.float32)
    t = fastnn.from_numpy(a)
    a[0] = 5
    assert t[0].item() == 5.0


@pytest.mark.parametrize("call", [
    lambda t, x: x.softmax(2), lambda t, x: x.log_softmax(-3),
    lambda t, x: t.nn.functional.softmax(x, dim=5), lambda t, x: x.cumsum(2),
    lambda t, x: t.cat([x, x], 2), lambda t, x: t.stack([x, x], 3), lambda t, x: x.flatten(0, 2),
    lambda t, x: x.amax(2), lambda t, x: x.movedim(2, 0), lambda t, x: x.unsqueeze_(3),
    lambda t, x: t.nn.functional.glu(x, dim=2), lambda t, x: x.unflatten(2, (1, 3)),
    lambda t, x: t.tensordot(x, x, dims=([2], [0])), lambda t, x: x.rot90(1, (0, 2)),
])
def test_a_dimension_out_of_range_is_refused_not_wrapped(call):
    # these took the dimension modulo ndim and returned a result where torch raises
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(fastnn, fastnn.ones(2, 3))


def test_permute_with_a_repeated_dimension_and_empty_interpolation_sizes():
    with pytest.raises(RuntimeError, match="duplicate dims are not allowed"):
        fastnn.ones(2, 3).permute(0, 0)
    with pytest.raises(RuntimeError, match=r"Input and output sizes should be greater than 0, "
                                           r"but got input \(H: 4, W: 4\) output \(H: 0, W: 2\)"):
        fastnn.nn.functional.interpolate(fastnn.ones(1, 1, 4, 4), size=(0, 2))
