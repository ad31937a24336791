"""torch.version: the package version, and the accelerator toolkits it was built with (none:
fastnn runs on the CPU, as a CPU build of torch reports cuda = None)."""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("fastnn")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree not installed
    __version__ = "0.1.0"

cuda = None
hip = None
xpu = None
debug = False
git_version = "unknown"
