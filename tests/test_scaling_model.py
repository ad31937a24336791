"""benches/scaling_model.py: the ring all-reduce formula, DDP's bucket assignment (the model's
copy must match fastnn.nn.parallel's), and what overlaps backward."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "benches"))
import scaling_model as sm  # noqa: E402

from fastnn import models  # noqa: E402
from fastnn.nn.parallel.distributed import _make_buckets  # noqa: E402

LINK = sm.Link("test", bandwidth=1e9, alpha=1e-5)


def test_ring_allreduce_time():
    assert sm.allreduce_time(10**6, 1, LINK) == 0
    assert sm.allreduce_time(10**6, 2, LINK) == pytest.approx(2e-5 + 1e-3)
    # bandwidth term tends to 2 * bytes / bandwidth, latency term grows with the ring
    assert sm.allreduce_time(10**6, 64, LINK) == pytest.approx(126e-5 + 2 * 63 / 64 * 1e-3)


@pytest.mark.parametrize("name", ["mlp", "cnn", "mlp2"])
def test_bucket_assignment_matches_distributed_data_parallel(name):
    params = list(models.build(name).parameters())
    ddp = [sum(p._data.nbytes for p in b.params)
           for b in _make_buckets(params, sm.BUCKET_BYTES)]
    model = [size for size, _ in sm.buckets([p._data.nbytes for p in params],
                                            [0.0] * len(params))]
    assert ddp == model


def test_overlap_hides_an_early_bucket():
    profile = sm.Profile(rows=64, step=0.020, backward=0.010,
                         buckets=[(10**6, 0.001), (10**4, 0.010)])
    # the first bucket's 1 ms all-reduce ends at 2 ms, long before backward ends at 10 ms
    exposed = sm.exposed_communication(profile, 2, LINK)
    assert exposed == pytest.approx(sm.allreduce_time(10**4, 2, LINK))
    late = sm.Profile(64, 0.020, 0.010, [(10**6, 0.010)])
    assert sm.exposed_communication(late, 2, LINK) == pytest.approx(
        sm.allreduce_time(10**6, 2, LINK))
    profiles = {128: sm.Profile(128, 0.04, 0.02, [(10**6, 0.002)]), 64: profile}
    assert sm.speedup(profiles, 128, 2, LINK) == pytest.approx(0.04 / (0.02 + exposed))
    assert sm.speedup(profiles, 128, 2, LINK, cores=1) < sm.speedup(profiles, 128, 2, LINK)
