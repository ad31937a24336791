"""The layers added for PyTorch's programs, against torch: a 2-layer LSTM over 35 steps
(word_language_model's shape, forward + backward), DCGAN's transposed and strided
convolutions (forward + both backward passes), and the few-row GEMM with an inner size that
is not a multiple of 16 (the LSTM's recurrent product, 8 x 200 @ 200 x 800). fastnn runs on
its compiled backend; NumPy has none of these layers."""
import numpy as np
import pytest

from conftest import record


def _skip_other_backends(contender):
    if contender not in ("torch", "fastnn-cython"):
        pytest.skip("the compiled backend and torch only")


@pytest.mark.parametrize("batch", [8, 32])
def test_lstm_forward_backward(benchmark, threads, contender, rng, batch):
    _skip_other_backends(contender)
    x = rng.standard_normal((35, batch, 200), dtype=np.float32)
    record(benchmark, f"LSTM(200, 200, num_layers=2) 35 steps batch {batch} fwd+bwd", contender,
           threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    lib.manual_seed(0)
    lstm = lib.nn.LSTM(200, 200, 2)

    def step():
        xt = lib.tensor(x, requires_grad=True)
        out, _ = lstm(xt)
        out.sum().backward()
    benchmark(step)


@pytest.mark.parametrize("shape", [(35, 32, 200, 200), (9, 64, 32, 32)],
                         ids=["word-language-model", "d2l-seq2seq"])
def test_gru_forward_backward(benchmark, threads, contender, rng, shape):
    """GRU(2 layers) fwd+bwd at word_language_model's size and at d2l's seq2seq encoder's (9
    steps of 64 sequences, 32 features): there the time loop's per-step overhead is the step."""
    _skip_other_backends(contender)
    steps, batch, features, hidden = shape
    x = rng.standard_normal((steps, batch, features), dtype=np.float32)
    record(benchmark, f"GRU({features}, {hidden}, num_layers=2) {steps} steps batch {batch} "
           "fwd+bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    lib.manual_seed(0)
    gru = lib.nn.GRU(features, hidden, 2)

    def step():
        xt = lib.tensor(x, requires_grad=True)
        out, _ = gru(xt)
        out.sum().backward()
    benchmark(step)


@pytest.mark.parametrize("layer", [(100, 512, 4, 1, 0, 1), (512, 256, 4, 2, 1, 4),
                                   (128, 64, 4, 2, 1, 16)],
                         ids=["100-512-1x1", "512-256-4x4", "128-64-16x16"])
def test_conv_transpose2d_forward_backward(benchmark, threads, contender, rng, layer):
    _skip_other_backends(contender)
    cin, cout, k, s, p, size = layer
    x = rng.standard_normal((64, cin, size, size), dtype=np.float32)
    record(benchmark, f"ConvTranspose2d ({64},{cin},{size},{size})->{cout} {k}x{k} s{s} p{p} "
           "fwd+both bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    lib.manual_seed(0)
    conv = lib.nn.ConvTranspose2d(cin, cout, k, s, p, bias=False)

    def step():
        xt = lib.tensor(x, requires_grad=True)
        conv(xt).sum().backward()
    benchmark(step)


@pytest.mark.parametrize("layer", [(64, 128, 32), (128, 256, 16)],
                         ids=["64-128-32x32", "128-256-16x16"])
def test_strided_conv2d_forward_backward(benchmark, threads, contender, rng, layer):
    """DCGAN's discriminator layers, Conv2d(c, 2c, 4, 2, 1): strided, so fastnn runs them as
    stride-1 convolutions on the input's phases (kernels/conv_phased.c)."""
    _skip_other_backends(contender)
    cin, cout, size = layer
    x = rng.standard_normal((64, cin, size, size), dtype=np.float32)
    record(benchmark, f"Conv2d ({64},{cin},{size},{size})->{cout} 4x4 s2 p1 fwd+both bwd",
           contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    lib.manual_seed(0)
    conv = lib.nn.Conv2d(cin, cout, 4, 2, 1, bias=False)

    def step():
        xt = lib.tensor(x, requires_grad=True)
        conv(xt).sum().backward()
    benchmark(step)


def test_gemm_few_rows_odd_inner(benchmark, threads, contender, rng):
    _skip_other_backends(contender)
    h = rng.random((8, 200), dtype=np.float32)
    w = rng.random((800, 200), dtype=np.float32)
    record(benchmark, "GEMM 8x200 @ 200x800 (h @ W^T)", contender, threads, 2 * 8 * 200 * 800)
    if contender == "torch":
        import torch
        benchmark(torch.matmul, torch.from_numpy(h), torch.from_numpy(w).T)
    else:
        from fastnn import backend
        benchmark(backend.gemm, h, w.T)


def test_attention_softmax_and_mask_forward_backward(benchmark, threads, contender, rng):
    """pytorch/examples' GAT attention over a graph of 1024 nodes, 8 heads: the scores masked
    by the adjacency (torch.where with an (N, N) condition over every head), a softmax over
    each row, forward + backward. fastnn's passes run in place and the mask is read at its
    own shape (fastnn/ops/activation.py, select.py)."""
    _skip_other_backends(contender)
    scores = rng.standard_normal((8, 1024, 1024), dtype=np.float32)
    adjacency = rng.random((1024, 1024)) < 0.01
    np.fill_diagonal(adjacency, True)
    record(benchmark, "where(adjacency) + softmax (8,1024,1024) fwd+bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    mask = lib.from_numpy(adjacency)
    floor = lib.full((8, 1024, 1024), -9e15)

    def step():
        e = lib.from_numpy(scores).requires_grad_()
        lib.softmax(lib.where(mask, e, floor), dim=-1).sum().backward()
    benchmark(step)


def test_global_average_pool_forward_backward(benchmark, threads, contender, rng):
    """AdaptiveAvgPool1d(1) over d2l's TextCNN feature maps (64 reviews, 100 channels, 498
    positions), forward + backward: a global average is one sum, not an integral image."""
    _skip_other_backends(contender)
    x = rng.standard_normal((64, 100, 498), dtype=np.float32)
    record(benchmark, "AdaptiveAvgPool1d(1) (64,100,498) fwd+bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    pool = lib.nn.AdaptiveAvgPool1d(1)

    def step():
        xt = lib.tensor(x, requires_grad=True)
        pool(xt).sum().backward()
    benchmark(step)


def test_resnet_stem_max_pool_forward_backward(benchmark, threads, contender, rng):
    """MaxPool2d(3, 2, 1), ResNet's stem pooling, on resnet18's 32 x 32 step (batch 32, 64
    channels of 16 x 16), forward + backward: a general window, 16 outputs at a time on
    AVX-512 (kernels/pool.c)."""
    _skip_other_backends(contender)
    x = rng.standard_normal((32, 64, 16, 16), dtype=np.float32)
    record(benchmark, "MaxPool2d(3, 2, 1) (32,64,16,16) fwd+bwd", contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    pool = lib.nn.MaxPool2d(3, 2, 1)
    xt = lib.tensor(x, requires_grad=True)

    def step():
        xt.grad = None
        pool(xt).sum().backward()
    benchmark(step)


def test_float64_lstm_cells_forward_backward(benchmark, threads, contender, rng):
    """pytorch/examples time_sequence_prediction's model step by step in float64: two
    LSTMCell(51) and a Linear(51, 1) over 20 time steps of 97 sequences, forward + backward (the
    example runs 999 steps a pass, 20 passes an LBFGS step). One thread only: at two, torch's
    run measured in the same process after fastnn's took 5-8x its time when run alone (16-18
    ms against 110-160), a thread-pool interaction (libgomp and OpenBLAS workers showed in its
    profile) not yet explained, so that pair would not compare the libraries."""
    _skip_other_backends(contender)
    if threads != 1:
        pytest.skip("compared at one thread (see the docstring)")
    x = rng.standard_normal((97, 20))
    record(benchmark, "LSTMCell(1,51)+LSTMCell(51,51)+Linear float64, 20 steps batch 97 fwd+bwd",
           contender, threads)
    lib = __import__("torch" if contender == "torch" else "fastnn")
    lib.manual_seed(0)
    cell1, cell2 = lib.nn.LSTMCell(1, 51).double(), lib.nn.LSTMCell(51, 51).double()
    linear = lib.nn.Linear(51, 1).double()

    def step():
        h1 = c1 = h2 = c2 = lib.zeros(97, 51, dtype=lib.float64)
        outputs = []
        for x_t in lib.from_numpy(x).split(1, dim=1):
            h1, c1 = cell1(x_t, (h1, c1))
            h2, c2 = cell2(h1, (h2, c2))
            outputs.append(linear(h2))
        lib.cat(outputs, dim=1).pow(2).mean().backward()
    benchmark(step)
