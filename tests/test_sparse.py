"""Sparse COO tensors (fastnn/sparse) against torch and a dense NumPy reference, and a
GCN-style program (pytorch/examples gcn's APIs) ported by its imports."""
import numpy as np
import pytest

import fastnn
from gradcheck import assert_same_as_torch
from test_porting import compare


def _torch():
    return pytest.importorskip("torch")


def _edges(rng, n=6, m=5, nnz=9, duplicates=True):
    rows, cols = rng.integers(0, n, nnz), rng.integers(0, m, nnz)
    if duplicates:
        rows[1], cols[1] = rows[0], cols[0]  # an uncoalesced pair
    return np.stack([rows, cols]), rng.standard_normal(nnz).astype(np.float32)


def _dense(indices, values, shape):
    out = np.zeros(shape, values.dtype)
    np.add.at(out, tuple(indices), values)
    return out


def test_construction_coalesce_and_repr_match_torch():
    t = _torch()
    indices, values = np.array([[0, 1, 1, 0], [1, 0, 2, 1]]), np.array([1., 2., 3., 4.], np.float32)
    ours = fastnn.sparse_coo_tensor(indices, fastnn.tensor(values), (2, 3))
    theirs = t.sparse_coo_tensor(t.tensor(indices), t.tensor(values), (2, 3))
    assert repr(ours).replace("fastnn.", "torch.") == repr(theirs)
    assert ours.layout is fastnn.sparse_coo and ours.is_sparse and not ours.is_coalesced()
    assert (ours._nnz(), ours.sparse_dim(), ours.dense_dim()) == (4, 2, 0)
    with pytest.raises(RuntimeError, match="uncoalesced tensor, please call .coalesce"):
        ours.indices()
    c, tc = ours.coalesce(), theirs.coalesce()
    assert repr(c).replace("fastnn.", "torch.") == repr(tc)
    np.testing.assert_array_equal(c.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(c.values().numpy(), tc.values().numpy())
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())
    # an int64 adjacency from int32 edge arrays and float ones, as gcn builds it
    a = fastnn.sparse_coo_tensor(indices.astype(np.int32), fastnn.ones(4), (2, 3),
                                 dtype=fastnn.int64)
    ta = t.sparse_coo_tensor(indices.astype(np.int32), t.ones(4), (2, 3), dtype=t.int64)
    assert repr(a).replace("fastnn.", "torch.") == repr(ta)
    assert fastnn.strided is fastnn.ones(1).layout
    assert repr(fastnn.strided) == "fastnn.strided"


def test_to_sparse_roundtrip_and_hybrid_layout():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 4)).astype(np.float32) * (rng.random((5, 4)) < 0.4)
    s = fastnn.tensor(x).to_sparse()
    assert s.is_coalesced() and s._nnz() == np.count_nonzero(x)
    np.testing.assert_array_equal(s.to_dense().numpy(), x)
    hybrid = fastnn.tensor(x).to_sparse(1)
    assert (hybrid.sparse_dim(), hybrid.dense_dim()) == (1, 1)
    np.testing.assert_array_equal(hybrid.to_dense().numpy(), x)
    empty = fastnn.zeros(3, 2).to_sparse()
    assert empty._nnz() == 0 and empty.to_dense().shape == (3, 2)


@pytest.mark.parametrize("case", ["row", "dims"])
def test_sum_matches_torch(case):
    t = _torch()
    rng = np.random.default_rng(1)
    indices, values = _edges(rng)
    ours = fastnn.sparse_coo_tensor(indices, fastnn.tensor(values), (6, 5))
    theirs = t.sparse_coo_tensor(t.tensor(indices), t.tensor(values), (6, 5))
    if case == "row":
        a, b = fastnn.sum(ours, dim=1), t.sum(theirs, dim=1)
        assert a.is_sparse and b.is_sparse
        np.testing.assert_allclose(a.to_dense().numpy(), b.to_dense().numpy(), rtol=1e-6)
    else:
        np.testing.assert_allclose(ours.sum().item(), theirs.sum().item(), rtol=1e-6)
        a, b = fastnn.sparse.sum(ours, dim=(0, 1)), t.sparse.sum(theirs, dim=(0, 1))
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-6)


@pytest.mark.parametrize("n,k,m,nnz", [(6, 5, 3, 9), (1, 1, 1, 1), (4, 7, 2, 0), (40, 33, 17, 200)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_times_dense_and_its_gradient(n, k, m, nnz, dtype):
    rng = np.random.default_rng(n + nnz)
    indices = np.stack([rng.integers(0, n, nnz), rng.integers(0, k, nnz)])
    values = rng.standard_normal(nnz).astype(dtype)
    s = fastnn.sparse_coo_tensor(indices, fastnn.tensor(values), (n, k))
    dense = _dense(indices, values, (n, k))
    d = rng.standard_normal((k, m)).astype(dtype)
    g = rng.standard_normal((n, m)).astype(dtype)
    for product in (fastnn.mm, fastnn.spmm, fastnn.matmul, fastnn.sparse.mm,
                    lambda a, b: a @ b):
        x = fastnn.tensor(d, requires_grad=True)
        y = product(s, x)
        assert not y.is_sparse and y.dtype == x.dtype
        np.testing.assert_allclose(y.detach().numpy(), dense @ d, rtol=1e-5, atol=1e-5)
        y.backward(fastnn.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), dense.T @ g, rtol=1e-5, atol=1e-5)
    v = rng.standard_normal(k).astype(dtype)
    np.testing.assert_allclose(fastnn.mv(s, fastnn.tensor(v)).numpy(), dense @ v, rtol=1e-5,
                               atol=1e-5)
    # dense @ sparse, and its gradient
    left = fastnn.tensor(rng.standard_normal((m, n)).astype(dtype), requires_grad=True)
    out = left @ s
    np.testing.assert_allclose(out.detach().numpy(), left.detach().numpy() @ dense, rtol=1e-5,
                               atol=1e-5)
    gl = rng.standard_normal((m, k)).astype(dtype)
    out.backward(fastnn.tensor(gl))
    np.testing.assert_allclose(left.grad.numpy(), gl @ dense.T, rtol=1e-5, atol=1e-5)


def test_products_match_torch_with_a_noncontiguous_dense_operand():
    t = _torch()
    rng = np.random.default_rng(3)
    indices, values = _edges(rng, 8, 6, 15)
    d = rng.standard_normal((3, 6)).astype(np.float32)
    ours = fastnn.sparse_coo_tensor(indices, fastnn.tensor(values), (8, 6))
    theirs = t.sparse_coo_tensor(t.tensor(indices), t.tensor(values), (8, 6))
    assert_same_as_torch(fastnn.spmm(ours, fastnn.tensor(d).t()), t.spmm(theirs, t.tensor(d).t()),
                         rtol=1e-4)  # (a sum that cancels to 5e-4: the order shows at 1e-5)


def test_elementwise_operations_match_torch():
    t = _torch()
    rng = np.random.default_rng(4)
    indices, values = _edges(rng)
    s = fastnn.sparse_coo_tensor(indices, fastnn.tensor(values), (6, 5))
    ts = t.sparse_coo_tensor(t.tensor(indices), t.tensor(values), (6, 5))
    d = rng.standard_normal((6, 5)).astype(np.float32)
    pairs = [
        (fastnn.tensor(d) + s, t.tensor(d) + ts),
        (fastnn.tensor(d) - s, t.tensor(d) - ts),
        (fastnn.add(fastnn.tensor(d), s, alpha=2), t.add(t.tensor(d), ts, alpha=2)),
        (s + s, ts + ts), (s - s, ts - ts), (s * 3, ts * 3), (2.5 * s, 2.5 * ts),
        (s / 4, ts / 4), (-s, -ts), (s * fastnn.tensor(d), ts * t.tensor(d)),
        (fastnn.tensor(d) * s, t.tensor(d) * ts), (s * s, ts * ts), (s.t(), ts.t()),
        (s.double(), ts.double()), (s.abs(), ts.abs()),
    ]
    for ours, theirs in pairs:
        assert ours.is_sparse == theirs.is_sparse
        a = ours.to_dense() if ours.is_sparse else ours
        b = theirs.to_dense() if theirs.is_sparse else theirs
        assert_same_as_torch(a, b, rtol=1e-6)
    # the int64 adjacency plus a float identity is a float dense matrix
    adj = fastnn.sparse_coo_tensor(indices, fastnn.ones(indices.shape[1]), (6, 6),
                                   dtype=fastnn.int64)
    tadj = t.sparse_coo_tensor(t.tensor(indices), t.ones(indices.shape[1]), (6, 6),
                               dtype=t.int64)
    mixed, tmixed = fastnn.eye(6) + adj, t.eye(6) + tadj
    assert mixed.dtype == fastnn.float32 and not mixed.is_sparse
    np.testing.assert_array_equal(mixed.numpy(), tmixed.numpy())


def test_what_torch_refuses_and_what_fastnn_does_not_run_say_so():
    s = fastnn.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + fastnn.ones(2, 2)
    with pytest.raises(NotImplementedError, match="Could not run 'exp' with arguments from the "
                                                  "'SparseCPU' backend"):
        s.exp()
    with pytest.raises(NotImplementedError, match="'view'"):
        s.view(4)
    with pytest.raises(NotImplementedError, match="'relu'"):
        fastnn.nn.functional.relu(s)
    with pytest.raises(RuntimeError, match="reshape is not implemented for sparse tensors"):
        s.reshape(4)
    with pytest.raises(TypeError, match="can't convert Sparse layout tensor to numpy"):
        s.numpy()
    with pytest.raises(NotImplementedError, match="cannot require grad"):
        s.requires_grad_()
    with pytest.raises(RuntimeError, match=r"shapes cannot be multiplied \(2x2 and 3x1\)"):
        s @ fastnn.ones(3, 1)
    with pytest.raises(RuntimeError, match="same dtype"):
        s @ fastnn.ones(2, 1, dtype=fastnn.float64)


@pytest.mark.parametrize("indices,values,size,message", [
    ([[0, 5], [1, 0]], [1.0, 2.0], (2, 2), "for dim 0, size is 2 but found index 5"),
    ([[0, -1], [1, 0]], [1.0, 2.0], (2, 2), "found negative index -1 for dim 0"),
    ([[0, 1], [1, 0]], [1.0, 2.0, 3.0], (2, 2), "indices and values must have same nnz"),
    ([0, 1], [1.0, 2.0], (2,), "indices must be sparse_dim x nnz"),
    ([[0.5, 1], [1, 0]], [1.0, 2.0], (2, 2), "indices must be an int64 tensor"),
    ([[0, 1], [1, 0]], [1.0, 2.0], (2, 2, 2), "number of dimensions must be sparse_dim"),
])
def test_bad_indices_are_refused_before_any_kernel_runs(indices, values, size, message):
    with pytest.raises(RuntimeError, match=message):
        fastnn.sparse_coo_tensor(np.array(indices), fastnn.tensor(values), size)


def test_the_legacy_constructor_takes_sizes_and_makes_floats_as_torch():
    t = _torch()
    for args in [(2, 3), (3,), (0,), (fastnn.Size([2, 4]),)]:
        theirs = t.Tensor(*[t.Size(a) if isinstance(a, fastnn.Size) else a for a in args])
        ours = fastnn.Tensor(*args)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == fastnn.float32
    for data in ([3], (2, 3), [True, False], np.array([1, 2])):
        assert repr(fastnn.Tensor(data)) == repr(t.Tensor(data))
    assert repr(fastnn.Tensor()) == repr(t.Tensor())
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        fastnn.Tensor(-1)


GCN_PROGRAM = """
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class GraphConvolution(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.Tensor(n_in, n_out))
        self.bias = nn.Parameter(torch.Tensor(n_out))

    def forward(self, x, adjacency):
        return torch.spmm(adjacency, torch.mm(x, self.weight)) + self.bias


class Net(nn.Module):
    def __init__(self, n_in, n_hidden, n_classes):
        super().__init__()
        self.first = GraphConvolution(n_in, n_hidden)
        self.second = GraphConvolution(n_hidden, n_classes)

    def forward(self, x, adjacency):
        return F.log_softmax(self.second(F.relu(self.first(x, adjacency)), adjacency), dim=1)


def normalised(edges, n):
    a = torch.sparse_coo_tensor(edges.T, torch.ones(len(edges)), (n, n), dtype=torch.int64)
    a = torch.eye(n) + a
    degree = torch.sqrt(1 / torch.sum(a, dim=1))
    degree[degree == float('inf')] = 0
    scale = torch.diag(degree).to_sparse()
    return (scale @ a @ scale).to_sparse()


features = torch.FloatTensor(FEATURES)
row_scale = 1 / torch.sum(features, dim=1)
row_scale[row_scale == float('inf')] = 0
features = (torch.diag(row_scale).to_sparse() @ features).to_sparse()
adjacency = normalised(EDGES, len(LABELS))
labels = torch.LongTensor(LABELS)
net = Net(features.shape[1], 8, int(labels.max().item()) + 1)
with torch.no_grad():
    for p, w in zip(net.parameters(), INIT):
        p.copy_(torch.from_numpy(w))
optimizer = torch.optim.Adam(net.parameters(), lr=0.05, weight_decay=5e-4)
losses = []
for epoch in range(15):
    net.train()
    optimizer.zero_grad()
    loss = F.nll_loss(net(features, adjacency)[TRAIN], labels[TRAIN])
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
net.eval()
with torch.no_grad():
    accuracy = (net(features, adjacency).argmax(dim=1) == labels).float().mean().item()
result = {"losses": losses, "accuracy": accuracy}
"""


def test_a_gcn_program_ports_by_changing_its_imports():
    _torch()
    rng = np.random.default_rng(5)
    n, f, c = 60, 30, 3
    labels = rng.integers(0, c, n)
    features = ((rng.random((n, f)) < 0.1) | (rng.random((n, f)) < 0.4) &
                (labels[:, None] == np.arange(f) % c)).astype(np.float32)
    features[7] = 0  # a node without features: its scale is inf, then set to 0
    edges = np.array([(i, j) for i in range(n) for j in rng.integers(0, n, 2)], np.int32)
    init = [rng.standard_normal(s).astype(np.float32) * 0.3 for s in [(f, 8), (8,), (8, c), (c,)]]
    inputs = dict(FEATURES=features, EDGES=edges, LABELS=labels, INIT=init,
                  TRAIN=np.arange(0, n, 2))
    ours = compare(GCN_PROGRAM, rtol=2e-4, atol=2e-5, **inputs)
    assert ours["losses"][-1] < ours["losses"][0]


def test_to_cpu_returns_the_sparse_tensor_itself():
    """pytorch/examples' GCN moves its sparse adjacency matrix with .to('cpu'); a device
    move read the COO tensor's dense data and raised (found by the GCN probe)."""
    s = fastnn.eye(3).to_sparse()
    assert s.to("cpu") is s and s.cpu() is s and s.to(device="cpu") is s
    assert s.to(fastnn.float64).dtype == fastnn.float64
    assert s.to("cpu").layout == fastnn.sparse_coo
