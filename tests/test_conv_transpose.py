"""nn.ConvTranspose2d / ConvTranspose1d and F.conv_transpose2d / conv_transpose1d: shapes,
forward and the three gradients against torch (both the GEMM path for small inputs and the
direct kernels, groups, dilation, output_padding) and against finite differences; output_size;
torch's errors and reprs; a DCGAN generator ported by its imports."""
import numpy as np
import pytest

import fastnn
from fastnn import nn
from fastnn.nn import functional as F
from fastnn.ops import conv_transpose
from conftest import requires_torch
from gradcheck import check_op
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

# (in, out, kernel, stride, padding, output_padding, groups, dilation, input H x W)
CASES = [
    (3, 5, 3, 1, 0, 0, 1, 1, (5, 6)), (4, 6, 4, 2, 1, 0, 1, 1, (4, 4)),
    (4, 6, 3, 2, 1, 1, 2, 1, (5, 7)), (2, 3, (3, 2), (2, 3), (1, 0), (1, 2), 1, 1, (3, 4)),
    (6, 4, 3, 1, 1, 0, 2, 2, (5, 5)), (2, 2, 3, 1, 0, 1, 1, 2, (4, 4)),
    (8, 3, 5, 3, 2, 2, 1, 1, (3, 3)), (1, 1, 1, 1, 0, 0, 1, 1, (1, 1)),
    (20, 16, 4, 1, 0, 0, 1, 1, (1, 1)), (16, 8, 4, 2, 1, 0, 1, 1, (8, 8)),
    (3, 4, 3, 2, 1, 1, 1, 1, (6, 5)), (6, 6, 3, 1, 1, 0, 3, 1, (4, 4)),
]


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
def test_matches_torch(case):
    cin, cout, k, s, p, op, g, d, hw = case
    theirs = torch.nn.ConvTranspose2d(cin, cout, k, s, p, op, g, True, d)
    ours = nn.ConvTranspose2d(cin, cout, k, s, p, op, g, True, d)
    assert repr(ours) == repr(theirs)
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    ours.load_state_dict({key: fastnn.tensor(v.detach().numpy())
                          for key, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, cin) + hw).astype(np.float32)
    tx, fx = torch.tensor(x, requires_grad=True), fastnn.tensor(x, requires_grad=True)
    tout, fout = theirs(tx), ours(fx)
    assert tuple(fout.shape) == tuple(tout.shape)
    weights = rng.standard_normal(tuple(tout.shape)).astype(np.float32)
    (tout * torch.tensor(weights)).sum().backward()
    (fout * fastnn.tensor(weights)).sum().backward()
    pairs = [(fout.detach(), tout.detach()), (fx.grad, tx.grad),
             (ours.weight.grad, theirs.weight.grad), (ours.bias.grad, theirs.bias.grad)]
    for got, want in pairs:
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("pixels", [(2, 2), (5, 4)])  # the GEMM path and the direct kernels
def test_gradients_match_finite_differences(pixels):
    assert (pixels[0] * pixels[1] <= conv_transpose.GEMM_MAX_PIXELS) == (pixels == (2, 2))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + pixels)
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(2)
    check_op(lambda a, c, e: F.conv_transpose2d(a, c, e, stride=2, padding=1, output_padding=1),
             [x, w, b],
             torch_fn=lambda a, c, e: torch.nn.functional.conv_transpose2d(
                 a, c, e, stride=2, padding=1, output_padding=1) if torch else None)


def test_gemm_and_direct_paths_agree(monkeypatch):
    rng = np.random.default_rng(2)
    x = fastnn.tensor(rng.standard_normal((3, 6, 4, 3)).astype(np.float32), requires_grad=True)
    w = fastnn.tensor(rng.standard_normal((6, 5, 3, 3)).astype(np.float32), requires_grad=True)
    results = []
    # every pass by GEMM (the forward too, which takes it only at one pixel), then every
    # pass by the direct kernels
    for limit in (conv_transpose.GEMM_MAX_PIXELS, 0):
        monkeypatch.setattr(conv_transpose, "GEMM_MAX_PIXELS", limit)
        monkeypatch.setattr(conv_transpose, "FORWARD_GEMM_MAX_PIXELS", limit)
        x.grad = w.grad = None
        out = F.conv_transpose2d(x, w, stride=2, padding=1)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), w.grad.numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_unbatched_1d_and_output_size():
    layer = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)
    assert tuple(layer(fastnn.randn(3, 5, 5)).shape) == (4, 9, 9)
    assert tuple(layer(fastnn.randn(1, 3, 5, 5), output_size=[10, 10]).shape) == (1, 4, 10, 10)
    assert tuple(layer(fastnn.randn(1, 3, 5, 5), output_size=(1, 4, 9, 10)).shape) == \
        (1, 4, 9, 10)
    with pytest.raises(ValueError, match=r"requested an output size of \(12, 10\), but valid "
                                         r"sizes range from \[9, 9\] to \[10, 10\]"):
        layer(fastnn.randn(1, 3, 5, 5), output_size=(12, 10))
    one = nn.ConvTranspose1d(3, 4, 3, stride=2, padding=1, output_padding=1)
    assert tuple(one(fastnn.randn(2, 3, 7)).shape) == (2, 4, 14)
    assert tuple(one.weight.shape) == (3, 4, 3)


@requires_torch
def test_conv_transpose1d_matches_torch():
    theirs = torch.nn.ConvTranspose1d(3, 4, 3, 2, 1, 1)
    ours = nn.ConvTranspose1d(3, 4, 3, 2, 1, 1)
    ours.load_state_dict({k: fastnn.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 3, 7)).astype(np.float32)
    np.testing.assert_allclose(ours(fastnn.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("call,error,message", [
    (lambda: F.conv_transpose2d(fastnn.randn(1, 3, 4, 4), fastnn.randn(3, 2, 3, 3),
                                stride=1, output_padding=1), RuntimeError,
     "output padding must be smaller than either stride or dilation"),
    (lambda: F.conv_transpose2d(fastnn.randn(1, 4, 4, 4), fastnn.randn(3, 2, 3, 3)),
     RuntimeError, "expected input\\[1, 4, 4, 4\\] to have 3 channels, but got 4 channels"),
    (lambda: F.conv_transpose2d(fastnn.randn(1, 3, 4, 4), fastnn.randn(3, 2, 3, 3),
                                fastnn.randn(3)), RuntimeError,
     "expected bias to be 1-dimensional with 2 elements"),
    (lambda: F.conv_transpose2d(fastnn.randn(3, 4), fastnn.randn(3, 2, 3, 3)), RuntimeError,
     "Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv_transpose2d"),
    (lambda: nn.ConvTranspose2d(3, 2, 3, padding_mode="reflect"), ValueError,
     'Only "zeros" padding mode is supported for ConvTranspose2d'),
])
def test_errors_are_torchs(call, error, message):
    with pytest.raises(error, match=message):
        call()


GENERATOR = """
import torch
import torch.nn as nn

class Generator(nn.Module):
    # pytorch/examples dcgan's generator, scaled down
    def __init__(self, nz=8, ngf=4, nc=1):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)

def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.constant_(m.weight, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.0)
        torch.nn.init.zeros_(m.bias)

net = Generator()
net.apply(weights_init)
optimizer = torch.optim.Adam(net.parameters(), lr=0.01, betas=(0.5, 0.999))
noise = torch.tensor(NOISE)
losses = []
for step in range(3):
    optimizer.zero_grad()
    fake = net(noise)
    loss = ((fake - 0.5) ** 2).mean()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
result = {"fake": fake, "losses": losses, "shape": str(tuple(fake.shape))}
"""


@requires_torch
def test_dcgan_generator_ports_by_its_imports():
    noise = np.random.default_rng(4).standard_normal((5, 8, 1, 1)).astype(np.float32)
    ours = compare(GENERATOR, rtol=1e-4, atol=1e-5, NOISE=noise)
    assert ours["shape"] == "(5, 1, 16, 16)"
