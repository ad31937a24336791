"""bfloat16 (issue 12): matmul of two bfloat16 tensors at 1024^3 and at the MLP's 256x784x256,
fastnn.matmul against torch.matmul (both: float32 accumulation, a bfloat16 result), with
fastnn's float32 GEMM run back to back for the ratio; the autocast GEMM (float32 operands
rounded while packed) as its own row; and d2l's MLP epoch under autocast, fastnn against
torch.autocast. The NumPy
contender has no bfloat16 arithmetic; fastnn's Numba and NumPy backends would only run the
float32 fallback, so they are not timed here."""
import numpy as np
import pytest

import workloads
from conftest import HAS_TORCH, paired_ratio, record

SIZES = [(1024, 1024, 1024), (256, 784, 256)]


def _skip_without_bf16(contender):
    if contender in ("numpy", "fastnn-numba", "fastnn-numpy"):
        pytest.skip(f"{contender} has no bfloat16 kernel")
    if contender == "fastnn-cython":
        from fastnn import _kernels
        if not _kernels.bf16_supported():
            pytest.skip("no AVX512_BF16 on this CPU (autocast runs the float32 fallback)")


@pytest.mark.parametrize("m,k,n", SIZES, ids=lambda v: str(v))
def test_bf16_matmul(benchmark, threads, contender, rng, m, k, n):
    _skip_without_bf16(contender)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    record(benchmark, f"bfloat16 matmul {m}x{k} @ {k}x{n}", contender, threads, 2 * m * n * k)
    if contender == "torch":
        import torch
        ab, bb = torch.from_numpy(a).bfloat16(), torch.from_numpy(b).bfloat16()
        benchmark(torch.matmul, ab, bb)
        return
    import fastnn
    from fastnn import backend
    ab, bb = fastnn.from_numpy(a).bfloat16(), fastnn.from_numpy(b).bfloat16()
    benchmark(fastnn.matmul, ab, bb)
    # fastnn's float32 GEMM time over its bfloat16 GEMM time, run back to back (goal >= 1.6)
    out = np.empty((m, n), np.float32)
    a16, b16 = ab.numpy(), bb.numpy()
    benchmark.extra_info["vs_float32"] = paired_ratio(
        lambda: [backend.gemm(a, b, out) for _ in range(5)],
        lambda: [backend.gemm_bf16_storage(a16, b16) for _ in range(5)])
    if HAS_TORCH:
        # torch's time over fastnn's, back to back in one process: both GEMMs run near the
        # VDPBF16PS peak, so their medians taken a minute apart differ mostly by the VM's drift
        import torch
        ta, tb = torch.from_numpy(a).bfloat16(), torch.from_numpy(b).bfloat16()
        benchmark.extra_info["vs_torch"] = paired_ratio(
            lambda: [torch.matmul(ta, tb) for _ in range(5)],
            lambda: [fastnn.matmul(ab, bb) for _ in range(5)], pairs=7)


@pytest.mark.parametrize("m,k,n", SIZES, ids=lambda v: str(v))
def test_autocast_gemm(benchmark, threads, contender, rng, m, k, n):
    """The GEMM autocast runs: float32 operands rounded to bfloat16 while packed, a float32
    result; torch's is the same autocast matmul on float32 tensors."""
    _skip_without_bf16(contender)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    record(benchmark, f"autocast bfloat16 GEMM {m}x{k} @ {k}x{n} (float32 operands)",
           contender, threads, 2 * m * n * k)
    if contender == "torch":
        import torch
        ta, tb = torch.from_numpy(a), torch.from_numpy(b)

        def product():
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return torch.matmul(ta, tb)
        benchmark(product)
        return
    from fastnn import backend
    out = np.empty((m, n), np.float32)
    benchmark(backend.gemm_bf16, a, b, out)


@pytest.fixture(scope="module")
def train_arrays():
    return workloads.load_train_arrays()


def test_mlp_epoch_autocast(benchmark, threads, contender, train_arrays):
    _skip_without_bf16(contender)
    images, labels = train_arrays
    if contender == "torch":
        model, epoch = workloads.torch_mlp(), workloads.torch_epoch
    else:
        model, epoch = workloads.fastnn_mlp(), workloads.fastnn_epoch
    epoch(model, images[:2560], labels[:2560], autocast=True)  # warm up
    record(benchmark, "MLP epoch 784-256-10 SGD batch 256, autocast bfloat16", contender,
           threads)
    loss = benchmark.pedantic(epoch, args=(model, images, labels), kwargs={"autocast": True},
                              rounds=5, warmup_rounds=0)
    assert loss < 1.0  # it trained
