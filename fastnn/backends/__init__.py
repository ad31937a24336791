"""fastnn.backends.mps / cudnn / mkldnn flags, as torch.backends, for programs that query
them: no GPU backend is present."""
from fastnn.backends import cudnn, mps  # noqa: F401
