"""fastnn.backends.mps / cudnn / mkldnn flags, as torch.backends, for programs that query
them: no GPU backend is present."""
from fastnn.backends import cpu, cudnn, mkldnn, mps, openmp  # noqa: F401
