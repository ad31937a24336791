"""A cost model for data-parallel training (fastnn train --distributed) beyond this machine.

One training step on N ranks with a global batch B (each rank computes B/N rows, as
`--distributed` splits it):

    step(N) = compute(B/N) + exposed communication

compute(b) is one rank's whole step at b rows (forward, backward, optimizer, data), measured
here on one core. Communication is DistributedDataParallel's: the gradients travel in buckets
(fastnn/nn/parallel/distributed.py: reverse parameter order, 1 MiB first, then 25 MB), each
ring all-reduced as soon as its last gradient is ready, one bucket after another on the link:

    allreduce(S bytes, N) = 2(N-1) * alpha + 2(N-1)/N * S / bandwidth

(the ring algorithm's reduce-scatter and all-gather, Patarasuk & Yuan 2009; Thakur et al.
2005). A bucket starts at max(its gradients' ready time, the previous bucket's end); the part of
the last bucket's end that falls after backward finishes is exposed, the rest overlaps
backward. Ready times are measured (post-accumulate-grad hooks) as fractions of backward.
"""
from dataclasses import dataclass

FIRST_BUCKET_BYTES = 1 << 20
BUCKET_BYTES = 25 * 1024 * 1024


@dataclass
class Link:
    name: str
    bandwidth: float  # bytes per second, each direction
    alpha: float  # seconds per message (latency of one ring hop)


# 10 and 100 Gbit/s Ethernet; alpha is a typical MPI point-to-point latency over TCP (10 GbE)
# and over RDMA (100 Gbit/s InfiniBand/RoCE). Assumptions, not measurements.
LINKS = [Link("10 Gbit/s", 10e9 / 8, 20e-6), Link("100 Gbit/s", 100e9 / 8, 3e-6)]


@dataclass
class Profile:
    """One rank's measured step at a given number of rows, and when each bucket's gradients
    are ready (seconds after backward starts)."""
    rows: int
    step: float  # the whole training step on one core
    backward: float
    buckets: list  # [(bytes, ready seconds after backward start)] in launch order


def buckets(param_bytes, ready):
    """DDP's bucket assignment over parameters given in registration order: returns
    [(bytes, ready time)] where a bucket is ready when its last parameter is."""
    out, size, latest, cap = [], 0, 0.0, FIRST_BUCKET_BYTES
    for nbytes, when in zip(reversed(param_bytes), reversed(ready)):
        size += nbytes
        latest = max(latest, when)
        if size >= cap:
            out.append((size, latest))
            size, latest, cap = 0, 0.0, BUCKET_BYTES
    if size:
        out.append((size, latest))
    return out


def allreduce_time(nbytes, ranks, link):
    if ranks == 1:
        return 0.0
    return 2 * (ranks - 1) * link.alpha + 2 * (ranks - 1) / ranks * nbytes / link.bandwidth


def exposed_communication(profile, ranks, link):
    """Seconds the step waits for gradients after its own backward has finished."""
    end = 0.0
    for nbytes, ready in profile.buckets:
        end = max(end, ready) + allreduce_time(nbytes, ranks, link)
    return max(0.0, end - profile.backward)


def step_time(profile, ranks, link, slowdown=1.0):
    """Predicted seconds per global step; `slowdown` scales compute (e.g. ranks sharing
    cores)."""
    scaled = Profile(profile.rows, profile.step * slowdown, profile.backward * slowdown,
                     [(b, r * slowdown) for b, r in profile.buckets])
    return scaled.step + exposed_communication(scaled, ranks, link)


def speedup(profiles, global_batch, ranks, link, cores=None):
    """Predicted speed of N ranks over one rank for a fixed global batch. `profiles` maps rows
    per rank to a Profile; `cores` (this machine) makes ranks beyond it share cores."""
    rows = -(-global_batch // ranks)  # the largest shard sets the pace
    slowdown = 1.0 if cores is None else max(1.0, ranks / cores)
    return profiles[global_batch].step / step_time(profiles[rows], ranks, link, slowdown)
