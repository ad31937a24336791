"""Small torch modules programs import: torch.compiler, torch.nn.attention (SDPBackend,
sdpa_kernel), torch.nn.modules.utils (_pair ...), torch.utils.hooks.RemovableHandle and
torch.backends.cpu / openmp / mkldnn, checked against torch where it answers the same."""
import pytest

import fastnn
import fastnn.nn.functional as F
from fastnn.nn.attention import SDPBackend, sdpa_kernel
from fastnn.nn.modules.utils import _pair, _quadruple, _reverse_repeat_tuple, _single, _triple
from fastnn.utils.hooks import RemovableHandle


def test_ntuple_helpers():
    assert _pair(3) == (3, 3) and _pair((1, 2)) == (1, 2) and _single(4) == (4,)
    assert _triple([1, 2, 3]) == (1, 2, 3) and _quadruple(0) == (0, 0, 0, 0)
    assert _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)


def test_sdpa_kernel_accepts_backends_and_runs_attention():
    q = fastnn.ones(1, 2, 3, 4)
    with sdpa_kernel(SDPBackend.MATH):
        assert F.scaled_dot_product_attention(q, q, q).shape == (1, 2, 3, 4)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        pass
    with pytest.raises(AssertionError, match="SDPBackend"):
        with sdpa_kernel(["math"]):
            pass
    assert str(SDPBackend.MATH) == "SDPBackend.MATH" and int(SDPBackend.FLASH_ATTENTION) == 1


def test_compiler_module():
    assert fastnn.compiler.is_compiling() is False
    assert fastnn.compiler.is_dynamo_compiling() is False

    @fastnn.compiler.disable
    def double(x):
        return x * 2

    assert double(fastnn.ones(2)).tolist() == [2.0, 2.0]
    assert fastnn.compiler.disable(recursive=False)(double) is double
    fastnn.compiler.reset()


def test_backends_and_hook_handles():
    assert fastnn.backends.cpu.get_cpu_capability() in ("AVX512", "AVX2", "DEFAULT")
    threads = fastnn.get_num_threads()
    assert fastnn.backends.openmp.is_available() in (True, False)
    assert fastnn.get_num_threads() == threads  # the probe restores the thread count
    assert fastnn.backends.mkldnn.is_available() is False
    with fastnn.backends.mkldnn.flags(enabled=False):
        assert fastnn.backends.mkldnn.enabled is False
    handle = fastnn.nn.Linear(2, 2).register_forward_hook(lambda *a: None)
    assert isinstance(handle, RemovableHandle)
    handle.remove()


def test_cpu_capability_matches_torch():
    torch = pytest.importorskip("torch")
    ours = fastnn.backends.cpu.get_cpu_capability()
    theirs = torch.backends.cpu.get_cpu_capability()
    # torch names more levels (AVX512_BF16 ...); both see the same top vector width
    assert theirs.startswith(ours) or ours == "DEFAULT"
