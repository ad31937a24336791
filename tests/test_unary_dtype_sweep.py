"""Every one-tensor torch function fastnn has, over eight dtypes (uint8, int8, int32, int64,
bool, float16, bfloat16, float64), against torch: result dtype, shape and values. The sweep
found logit of uint8 wrapping (1 - x in uint8), nan_to_num refusing bfloat16 and prod of
bfloat16 giving int64."""
import numpy as np
import pytest

import fastnn

torch = pytest.importorskip("torch")

SKIP = {"manual_seed", "seed", "save", "load", "compile", "normal", "poisson", "bernoulli",
        "multinomial", "rand_like", "randn_like", "randint_like", "empty_like", "dropout",
        "alpha_dropout", "feature_dropout", "feature_alpha_dropout", "rrelu",
        "set_default_dtype", "set_printoptions", "use_deterministic_algorithms",
        "set_default_device", "set_grad_enabled", "set_rng_state", "set_num_threads",
        "set_num_interop_threads", "from_numpy", "set_float32_matmul_precision",
        "set_warn_always", "set_flush_denormal", "set_anomaly_enabled", "typename",
        "is_tensor", "is_storage", "vmap", "no_grad", "enable_grad", "inference_mode",
        "get_default_dtype", "randperm", "unique_consecutive", "nonzero_static"}
NAMES = sorted(n for n in dir(torch) if not n.startswith("_") and not n[0].isupper()
               and callable(getattr(torch, n, None)) and hasattr(fastnn, n) and n not in SKIP)
VALUES = {"u8": ([3, 0, 200], "uint8"), "i8": ([-3, 0, 100], "int8"),
          "i32": ([7, -2, 5], "int32"), "i64": ([7, -2, 5], "int64"),
          "b": ([True, False, True], "bool"), "f16": ([1.5, -0.25, 3.0], "float16"),
          "bf16": ([1.5, -0.25, 3.0], "bfloat16"), "f64": ([0.5, 0.25, -0.75], "float64")}


def _run(lib, name, key):
    import warnings
    values, dtype = VALUES[key]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = getattr(lib, name)(lib.tensor(values, dtype=getattr(lib, dtype)))
    except Exception as exc:
        return ("error", type(exc).__name__)
    if isinstance(r, (tuple, list)) and r and hasattr(r[0], "numpy"):
        r = r[0]
    if not hasattr(r, "dtype"):
        return ("other",)
    values = r.numpy().astype(float) if r.dtype == lib.bool else \
        r.detach().to(lib.float64).numpy()
    return (str(r.dtype).split(".")[-1], tuple(r.shape), values)


@pytest.mark.parametrize("name", NAMES)
def test_one_tensor_function_over_dtypes_as_torch(name):
    for key in VALUES:
        theirs, mine = _run(torch, name, key), _run(fastnn, name, key)
        if theirs[0] in ("error", "other"):
            continue
        assert mine[:2] == theirs[:2], (key, mine[:2], theirs[:2])
        tolerance = 1e-2 if theirs[0] in ("float16", "bfloat16") else 1e-5
        np.testing.assert_allclose(mine[2], theirs[2], rtol=tolerance, atol=tolerance,
                                   equal_nan=True, err_msg=key)
