"""Complex tensors (complex64/complex128) and torch.fft: dtypes and promotion, printing, the
ops that reach them through NumPy, the errors of the ops that need an order, and autograd
through the complex ops that have a backward for complex numbers (the others refuse). d2l's eigendecomposition appendix is the program: it
prints torch.linalg.eig's eigenvalues and sorts their moduli."""
import importlib.util

import numpy as np
import pytest

import fastnn
from fastnn.ops.complex_ops import refuse_order

HAS_TORCH = importlib.util.find_spec("torch") is not None
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch is the reference")


def test_dtypes_and_their_names():
    assert fastnn.tensor([1 + 2j, 3]).dtype is fastnn.complex64
    assert fastnn.cfloat is fastnn.complex64 and fastnn.cdouble is fastnn.complex128
    assert fastnn.tensor(np.array([1j])).dtype is fastnn.complex128  # NumPy's dtype kept
    assert fastnn.complex64.is_complex and not fastnn.complex64.is_floating_point
    assert fastnn.complex64.to_real() is fastnn.float32
    assert fastnn.float64.to_complex() is fastnn.complex128
    previous = fastnn.get_default_dtype()
    fastnn.set_default_dtype(fastnn.float64)
    try:  # the default complex dtype follows the default float
        assert fastnn.tensor([1j]).dtype is fastnn.complex128
    finally:
        fastnn.set_default_dtype(previous)


def test_promotion_combines_precision_across_categories():
    assert fastnn.promote_types(fastnn.complex64, fastnn.float64) is fastnn.complex128
    assert fastnn.promote_types(fastnn.complex64, fastnn.int64) is fastnn.complex64
    x64 = fastnn.tensor([1.0, 2.0], dtype=fastnn.float64)
    assert (x64 * 1j).dtype is fastnn.complex128
    assert (fastnn.tensor([1, 2]) * 1j).dtype is fastnn.complex64
    assert (fastnn.tensor([1.0, 2.0]) + fastnn.tensor(1j, dtype=fastnn.complex128)).dtype \
        is fastnn.complex64  # a zero-dim complex128 lifts float32 to complex, not its width
    assert (x64 + fastnn.tensor(1j)).dtype is fastnn.complex128


def test_arithmetic_and_reductions_match_numpy():
    values = np.array([1 + 2j, -3 + 4j, 0.5 - 1j], np.complex64)
    z = fastnn.tensor(values)
    for got, want in [(z * z, values * values), (z / 2, values / 2), (z - 1, values - 1),
                      (-z, -values), (z.sum(), values.sum()), (z.mean(), values.mean()),
                      (z.prod(), values.prod()), (fastnn.exp(z), np.exp(values)),
                      (z.abs(), np.abs(values)), (z.angle(), np.angle(values)),
                      (z.conj(), np.conj(values)), (z.norm(), np.linalg.norm(values))]:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
        assert got.numpy().dtype == np.asarray(want).dtype
    assert z[0].item() == 1 + 2j and z.tolist()[1] == -3 + 4j


def test_real_and_imag_are_views():
    z = fastnn.tensor([1 + 2j, 3 - 4j])
    assert fastnn.equal(z.real, fastnn.tensor([1.0, 3.0]))
    assert fastnn.equal(fastnn.imag(z), fastnn.tensor([2.0, -4.0]))
    z.real.mul_(10)
    assert z.tolist() == [10 + 2j, 30 - 4j]
    x = fastnn.tensor([1.0])
    assert x.real is x  # a real tensor is its own real part, as torch
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with "
                                           "non-complex dtypes"):
        x.imag


def test_view_as_real_and_back_share_storage():
    z = fastnn.tensor([1 + 2j, 3 + 4j])
    pairs = fastnn.view_as_real(z)
    assert pairs.shape == (2, 2) and pairs.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    pairs[1, 1] = 5.0
    assert z[1].item() == 3 + 5j
    assert fastnn.view_as_complex(pairs).tolist() == [1 + 2j, 3 + 5j]
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        fastnn.view_as_complex(fastnn.ones(3))
    with pytest.raises(RuntimeError, match="only supported for complex tensors"):
        fastnn.view_as_real(fastnn.ones(2))


def test_complex_and_polar_build_from_parts():
    re, im = fastnn.tensor([1.0, 0.0]), fastnn.tensor([2.0, 1.0])
    assert fastnn.complex(re, im).tolist() == [1 + 2j, 1j]
    np.testing.assert_allclose(fastnn.polar(fastnn.tensor([2.0]),
                                            fastnn.tensor([np.pi / 2])).numpy(), [2j], atol=1e-6)
    with pytest.raises(RuntimeError, match="Expected object of scalar type Float"):
        fastnn.complex(re, im.double())


@pytest.mark.parametrize("op, error, message", [
    (lambda z: z < 1, NotImplementedError, "\"lt_cpu\" not implemented for 'ComplexFloat'"),
    (lambda z: z >= z, NotImplementedError, "\"ge_cpu\" not implemented for 'ComplexFloat'"),
    (lambda z: z.max(), NotImplementedError, "\"max_all\" not implemented for 'ComplexFloat'"),
    (lambda z: z.min(0), RuntimeError, "min(): does not support complex input"),
    (lambda z: z.argmax(), RuntimeError, "argmax(): does not support complex input"),
    (lambda z: z.sort(), RuntimeError, " Sort does not support complex dtypes on CPU"),
    (lambda z: z.topk(1), RuntimeError, " topk does not support complex dtypes on CPU"),
    (lambda z: z.clamp(0, 1), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: z.relu(), NotImplementedError, "clamp is not supported for complex types"),
    (lambda z: z.maximum(z), RuntimeError, "maximum not implemented for complex "
                                                   "tensors."),
    (lambda z: z.amax(), NotImplementedError, "\"max_values_cpu\" not implemented for "
                                              "'ComplexFloat'"),
    (lambda z: float(z[0]), RuntimeError, "value cannot be converted to type double without "
                                          "overflow"),
])
def test_ops_that_need_an_order_refuse_complex_as_torch(op, error, message):
    z = fastnn.tensor([1 + 2j, -3 + 4j])
    with pytest.raises(error) as caught:
        op(z)
    assert str(caught.value) == message
    if HAS_TORCH:
        import torch
        with pytest.raises(error) as torch_caught:
            op(torch.tensor([1 + 2j, -3 + 4j]))
        assert str(torch_caught.value) == message


def test_refuse_order_passes_real_arrays():
    refuse_order(np.ones(2), "lt_cpu")  # nothing raised


def test_ops_without_a_complex_backward_refuse_to_record():
    """A complex leaf cannot require grad, and an op whose backward is written for real numbers
    never records a complex result nor takes a complex input that requires grad: the graph is
    not cut, nor a gradient wrong, without a word."""
    with pytest.raises(RuntimeError, match="autograd covers real dtypes only"):
        fastnn.tensor([1j], requires_grad=True)
    x = fastnn.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="torch.fft.fft: fastnn's autograd of complex "
                                           "numbers covers view_as_complex"):
        fastnn.fft.fft(x, out=fastnn.empty(4, dtype=fastnn.complex64))  # out= never records
    z = x * 1j  # recorded: a product's backward holds for complex numbers
    with pytest.raises(RuntimeError, match="Exp: fastnn's autograd of complex numbers"):
        fastnn.exp(z)  # exp's backward is written for real numbers
    with pytest.raises(RuntimeError, match="Pow.*autograd of complex"):
        z ** 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real "
                                           "scalar outputs but got fastnn.complex64"):
        z.sum().backward()
    assert fastnn.sigmoid(fastnn.real(z)).requires_grad  # a real input: recorded as ever
    with pytest.raises(RuntimeError, match="autograd of complex numbers"):
        fastnn.nn.functional.linear(z, fastnn.ones(2, 4, dtype=fastnn.complex64))
    with pytest.raises(RuntimeError, match="Sigmoid: fastnn's autograd of complex numbers"):
        fastnn.sigmoid(z.real + z)  # a complex input whose op has a real-only backward
    with fastnn.no_grad():
        assert fastnn.fft.fft(x).dtype is fastnn.complex64
        assert fastnn.exp(z).dtype is fastnn.complex64
    assert fastnn.fft.fft(x.detach()).tolist()[0] == 4


def _rotary(lib, x, w):
    """pytorch/examples' Llama 2 rotary embedding (apply_rotary_emb) times fixed weights."""
    freqs = 1.0 / (10000 ** (lib.arange(0, 8, 2)[:4].double() / 8))
    angles = lib.outer(lib.arange(3).double(), freqs)
    cis = lib.polar(lib.ones_like(angles), angles).view(1, 3, 1, 4)
    z = lib.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
    return (lib.view_as_real(z * cis).flatten(3) * w).sum()


def _parts(lib, a, b):
    z = lib.complex(a, b)
    c = lib.complex(b * 2, a - 1)
    return ((z * c).abs().sum() + z.real.sum() - z.imag.mean() + (z / c.conj()).angle().sum()
            + lib.view_as_real(z.conj().resolve_conj()).pow(2).sum() + lib.cat([z[:1], z[1:] * 2]).abs().sum())


def _polar(lib, r, theta):
    z = lib.polar(r, theta)
    w = lib.complex(theta, r)
    return ((z / w).real.sum() + (z - w * 1j).abs().mean() + (r * 1j + z).imag.sum()
            + (-z).sum().abs() + z.reshape(-1).flip(0)[0].abs())


@needs_torch
@pytest.mark.parametrize("program", [_rotary, _parts, _polar])
def test_complex_gradients_match_torch(program):
    """torch's convention, dL/dRe z + i dL/dIm z, through the complex ops that record: the
    real leaves' gradients against torch's, in float64, for Llama 2's rotary embedding and for
    every complex op with a backward."""
    import torch
    rng = np.random.default_rng(7)
    shapes = {_rotary: [(2, 3, 4, 8), (2, 3, 4, 8)], _parts: [(3, 4), (3, 4)],
              _polar: [(5,), (5,)]}[program]
    values = [rng.uniform(0.5, 2.0, s) for s in shapes]
    grads = {}
    for lib in (fastnn, torch):
        leaves = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
        if program is _rotary:
            leaves[1].requires_grad_(False)
        loss = program(lib, *leaves)
        loss.backward()
        grads[lib.__name__] = (float(loss.detach()), [None if t.grad is None else t.grad.numpy()
                                             for t in leaves])
    (got_loss, got), (want_loss, want) = grads["fastnn"], grads["torch"]
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            assert g.dtype == np.float64
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


_FFT_GRAD_CASES = [("fft", {}), ("fft", {"n": 11}), ("fft", {"n": 5, "dim": 0}),
                   ("ifft", {"n": 6}), ("rfft", {}), ("rfft", {"n": 12, "dim": 0}),
                   ("rfft", {"n": 7}), ("irfft", {}), ("irfft", {"n": 9}), ("irfft", {"n": 4}),
                   ("fft2", {}), ("ifft2", {"s": (3, 10)}), ("rfft2", {"s": (9, 7)}),
                   ("irfft2", {}), ("irfft2", {"s": (6, 5)}), ("fftn", {"dim": (0,)}),
                   ("ifftn", {}), ("rfftn", {}), ("irfftn", {"s": (8, 12)}), ("hfft", {}),
                   ("hfft", {"n": 7, "dim": 0}), ("ihfft", {}), ("ihfft", {"n": 13})]


@needs_torch
@pytest.mark.parametrize("norm", [None, "forward", "ortho"])
@pytest.mark.parametrize("op, kwargs", _FFT_GRAD_CASES,
                         ids=[f"{op}-{kw}" for op, kw in _FFT_GRAD_CASES])
@pytest.mark.parametrize("complex_input", [False, True])
def test_fft_gradients_match_torch(op, kwargs, norm, complex_input):
    """Every transform with a backward, from real and from complex inputs (made of real leaves
    by torch.complex), with n/s padding and cropping and each normalisation: the leaves'
    gradients against torch's, in float64."""
    import torch
    if complex_input and (op.startswith("rfft") or op == "ihfft"):
        for lib in (fastnn, torch):  # a real-to-complex transform refuses complex numbers
            with pytest.raises(RuntimeError, match=r"(rfftn?|ihfft) expects a real(-valued)? "
                                                   "input tensor, but got ComplexDouble"):
                getattr(lib.fft, op)(lib.ones(4, 4, dtype=lib.complex128))
        return
    rng = np.random.default_rng(len(op) + len(kwargs))
    values = [rng.standard_normal((8, 10)) for _ in range(2)]
    weights = rng.standard_normal((64, 64))
    results = []
    for lib in (fastnn, torch):
        re, im = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values)
        x = lib.complex(re, im) if complex_input else re
        out = getattr(lib.fft, op)(x, norm=norm, **kwargs)
        w = lib.tensor(weights[tuple(slice(0, n) for n in out.shape)])
        loss = ((out * w).real.sum() + (out * out.conj()).real.mean()
                if out.dtype.is_complex else (out * w).sum() + (out ** 2).mean())
        loss.backward()
        results.append([float(loss.detach()), re.grad.numpy(),
                        None if im.grad is None else im.grad.numpy()])
    (got_loss, *got), (want_loss, *want) = results
    assert got_loss == pytest.approx(want_loss, rel=1e-10)
    for g, w in zip(got, want):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-10)


def test_complex_gradients_match_finite_differences():
    """The same convention without torch: each real leaf's gradient by central differences."""
    rng = np.random.default_rng(3)
    values = [rng.uniform(0.5, 2.0, (3, 4)), rng.uniform(0.5, 2.0, (3, 4))]
    leaves = [fastnn.tensor(v, dtype=fastnn.float64, requires_grad=True) for v in values]
    _parts(fastnn, *leaves).backward()
    for i, leaf in enumerate(leaves):
        numeric = np.zeros_like(values[i])
        for j in np.ndindex(values[i].shape):
            plus, minus = [v.copy() for v in values], [v.copy() for v in values]
            plus[i][j] += 1e-6
            minus[i][j] -= 1e-6
            f = [float(_parts(fastnn, *(fastnn.tensor(v, dtype=fastnn.float64) for v in vs)))
                 for vs in (plus, minus)]
            numeric[j] = (f[0] - f[1]) / 2e-6
        np.testing.assert_allclose(leaf.grad.numpy(), numeric, rtol=1e-6, atol=1e-6)


def test_writing_complex_into_a_real_tensor_is_refused():
    w = fastnn.zeros(2)
    with pytest.raises(RuntimeError, match="result type ComplexFloat can't be cast to the "
                                           "desired output type Float"):
        w += fastnn.tensor([1j, 2])
    with pytest.warns(UserWarning, match="discards the imaginary part"):
        assert fastnn.tensor([1 + 2j]).float().tolist() == [1.0]


def test_d2l_eigendecomposition_moduli():
    """d2l's appendix: the moduli of a random matrix's eigenvalues, sorted."""
    fastnn.manual_seed(4)
    A = fastnn.randn(5, 5, dtype=fastnn.float64)
    eigs = fastnn.linalg.eig(A).eigenvalues
    assert eigs.dtype is fastnn.complex128
    norms = [fastnn.abs(fastnn.tensor(x)) for x in eigs]
    norms.sort()
    np.testing.assert_allclose([n.item() for n in norms],
                               np.sort(np.abs(np.linalg.eigvals(A.numpy()))), rtol=1e-12)
    assert repr(fastnn.linalg.eigvals(fastnn.tensor([[0.0, 1.0], [-1.0, 0.0]]))) == \
        "tensor([0.+1.j, 0.-1.j])"


FFT_CASES = [
    ("fft", lambda m, x: m.fft.fft(x)), ("ifft", lambda m, x: m.fft.ifft(x, n=6)),
    ("rfft", lambda m, x: m.fft.rfft(x, norm="ortho")),
    ("irfft", lambda m, x: m.fft.irfft(m.fft.rfft(x))),
    ("hfft", lambda m, x: m.fft.hfft(m.fft.ihfft(x))),
    ("fft2", lambda m, x: m.fft.fft2(x.reshape(2, 4))),
    ("rfftn", lambda m, x: m.fft.rfftn(x.reshape(2, 4), s=(2, 6))),
    ("irfft2", lambda m, x: m.fft.irfft2(m.fft.rfft2(x.reshape(2, 4)), s=(2, 4))),
    ("ifftn dim", lambda m, x: m.fft.ifftn(x.reshape(2, 4), dim=0, norm="forward")),
    ("fftshift", lambda m, x: m.fft.fftshift(x.reshape(2, 4))),
    ("ifftshift dim", lambda m, x: m.fft.ifftshift(x, dim=0)),
    ("fftfreq", lambda m, x: m.fft.fftfreq(5, d=0.1)),
    ("rfftfreq", lambda m, x: m.fft.rfftfreq(8, dtype=m.float64)),
    ("int input", lambda m, x: m.fft.fft(m.arange(4))),
    ("ifft2", lambda m, x: m.fft.ifft2(x.reshape(2, 4))),
    ("fftn all dims", lambda m, x: m.fft.fftn(x.reshape(2, 2, 2))),
    ("irfftn", lambda m, x: m.fft.irfftn(m.fft.rfftn(x.reshape(2, 4)), s=(2, 4))),
    ("ihfft", lambda m, x: m.fft.ihfft(x, norm="forward")),
]


@needs_torch
@pytest.mark.parametrize("name, op", FFT_CASES, ids=[c[0] for c in FFT_CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fft_matches_torch(name, op, dtype):
    import torch
    values = np.random.default_rng(0).standard_normal(8).astype(dtype)
    got = op(fastnn, fastnn.tensor(values))
    want = op(torch, torch.tensor(values)).resolve_conj()  # (torch's ifft: a lazy conjugate)
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("make", [
    lambda m: m.tensor([1 + 2j, 3]), lambda m: m.tensor([[1.5 + 2j, -3.25 - 1j]]),
    lambda m: m.tensor([1 - 0j, -1.5e-5 + 3j]), lambda m: m.tensor(2.5 - 1j),
    lambda m: m.tensor([1 + 2j], dtype=m.complex128), lambda m: m.tensor([1e10 + 1j, 2]),
    lambda m: m.zeros(3, dtype=m.cfloat), lambda m: m.arange(30.0).reshape(3, 10) * (1 - 1j),
    lambda m: m.linalg.eig(m.tensor([[2, 1], [2, 3]], dtype=m.float64)).eigenvectors,
])
def test_printing_matches_torch(make):
    import torch
    assert repr(make(fastnn)).replace("fastnn.", "torch.") == repr(make(torch))


@needs_torch
@pytest.mark.parametrize("dtype", ["cfloat", "complex128"])
def test_random_complex_draws_torch_s_numbers(dtype):
    import torch
    for lib in (fastnn, torch):
        lib.manual_seed(3)
    got = fastnn.randn(7, dtype=getattr(fastnn, dtype)).numpy()
    want = torch.randn(7, dtype=getattr(torch, dtype)).numpy()
    np.testing.assert_array_equal(got, want)
    got, want = fastnn.rand(3, dtype=getattr(fastnn, dtype)), torch.rand(3, dtype=getattr(torch,
                                                                                        dtype))
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_checkpoints_keep_complex_tensors(tmp_path):
    z = fastnn.tensor([1 + 2j, 3j])
    fastnn.save({"z": z}, tmp_path / "ours.pt")
    assert fastnn.equal(fastnn.load(tmp_path / "ours.pt")["z"], z)
    if HAS_TORCH:  # a torch checkpoint's ComplexFloat/ComplexDouble storages
        import torch
        torch.save({"z": torch.tensor([1 + 2j, 3j]),
                    "w": torch.ones(2, dtype=torch.complex128)}, tmp_path / "theirs.pt")
        loaded = fastnn.load(tmp_path / "theirs.pt")
        assert fastnn.equal(loaded["z"], z) and loaded["w"].dtype is fastnn.complex128


def test_out_takes_the_result_and_checks_its_dtype():
    out = fastnn.empty(4, dtype=fastnn.complex64)
    assert fastnn.fft.fft(fastnn.arange(4.0), out=out) is out and out[0].item() == 6
    with pytest.raises(RuntimeError, match="^fft expects a complex output tensor, but got Float$"):
        fastnn.fft.fft(fastnn.arange(4.0), out=fastnn.empty(4))
    with pytest.raises(RuntimeError, match="^rfftn expects a complex output tensor"):
        fastnn.fft.rfft2(fastnn.ones(2, 2), out=fastnn.empty(4))
    with pytest.raises(RuntimeError, match="^irfft expects a floating point output tensor, but "
                                           "got ComplexFloat$"):
        fastnn.fft.irfft(fastnn.ones(4, dtype=fastnn.cfloat), out=out)
    wide = fastnn.empty(4, dtype=fastnn.complex128)  # any precision of the right kind
    assert fastnn.fft.fft(fastnn.arange(4.0), out=wide) is wide
    both = fastnn.empty(1, dtype=fastnn.complex64)
    assert fastnn.complex(fastnn.ones(1), fastnn.ones(1), out=both) is both


PUBLIC_CASES = [
    ("real", lambda m, z: m.real(z)), ("imag", lambda m, z: m.imag(z)),
    ("Tensor.real", lambda m, z: z.real), ("conj", lambda m, z: m.conj(z).resolve_conj()),
    ("conj_physical", lambda m, z: m.conj_physical(z)),
    ("resolve_conj", lambda m, z: m.resolve_conj(z)), ("angle", lambda m, z: m.angle(z)),
    ("abs", lambda m, z: m.abs(z)), ("view_as_real", lambda m, z: m.view_as_real(z)),
    ("view_as_complex", lambda m, z: m.view_as_complex(m.view_as_real(z))),
    ("complex", lambda m, z: m.complex(z.real, z.imag)),
    ("polar", lambda m, z: m.polar(m.abs(z), m.angle(z))),
    ("H", lambda m, z: z.reshape(1, 3).H.resolve_conj()),
    ("real of a real tensor", lambda m, z: m.real(z.real)),
]


@needs_torch
@pytest.mark.parametrize("name, op", PUBLIC_CASES, ids=[c[0] for c in PUBLIC_CASES])
def test_public_names_match_torch(name, op):
    """Values and dtypes of the complex functions against torch (gradients: these results are
    complex, which fastnn refuses to record, test_a_complex_result_is_never_recorded...)."""
    import torch
    values = np.array([1 + 2j, -3.5 + 0.25j, -0.0 - 1j], np.complex64)
    got, want = op(fastnn, fastnn.tensor(values)), op(torch, torch.tensor(values))
    assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1]
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)


@needs_torch
@pytest.mark.parametrize("op", [lambda m: m.imag(m.ones(2)),
                                lambda m: m.view_as_real(m.ones(2)),
                                lambda m: m.view_as_complex(m.ones(3)),
                                lambda m: m.view_as_complex(m.ones(2, 2, dtype=m.int64)),
                                lambda m: m.complex(m.ones(2, requires_grad=True), m.ones(2),
                                                    out=m.empty(2, dtype=m.complex64)),
                                lambda m: m.polar(m.ones(2), m.ones(2, requires_grad=True),
                                                  out=m.empty(2, dtype=m.complex64))],
                         ids=["imag real", "view_as_real real", "size 3", "int64",
                              "complex out= with grad", "polar out= with grad"])
def test_public_names_raise_torch_s_errors(op):
    import torch
    with pytest.raises(RuntimeError) as ours:
        op(fastnn)
    with pytest.raises(RuntimeError) as theirs:
        op(torch)
    assert str(ours.value) == str(theirs.value)


def test_out_is_written_in_place():
    out = fastnn.zeros(4, dtype=fastnn.complex64)
    view = out[1:]
    fastnn.fft.fft(fastnn.arange(4.0), out=out)
    assert view.tolist() == out.tolist()[1:] and out[0].item() == 6
