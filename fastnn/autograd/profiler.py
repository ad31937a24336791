"""torch.autograd.profiler: the older spelling of fastnn.profiler's profile and
record_function (the intro tutorial's `with torch.autograd.profiler.profile() as prf:`)."""
from fastnn.profiler import EventList, FunctionEventAvg, profile, record_function  # noqa: F401
