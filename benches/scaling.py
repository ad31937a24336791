"""Data-parallel scaling: measured on this machine with mpirun, predicted beyond it.

    python benches/scaling.py            # writes benches/results/scaling.md and scaling.png

1. Measures `fastnn train --distributed` epochs (MLP; CNN on a 6,400-image subset) with 2 and
   3 ranks of one thread each, beside one process with 1 and with 2 threads, in interleaved
   rounds (this VM's speed drifts; medians of rounds are reported, and the 2-rank / 2-thread
   ratio is taken within each round).
2. Profiles one rank's training step at every per-rank batch the prediction needs (one
   thread), with the time each gradient becomes ready in backward.
3. Measures fastnn.distributed.all_reduce between two ranks here and fits alpha + bytes/bw.
4. Predicts speedup over one rank for 2-64 ranks on 10 and 100 Gbit/s links, and for this
   machine's shared memory (ranks beyond its cores share them), with benches/scaling_model.py.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import scaling_model as sm  # noqa: E402

RESULTS = Path(__file__).parent / "results"
RANKS = [1, 2, 4, 8, 16, 32, 64]
RECIPES = {  # model -> (global batch, training options for the measured runs)
    "mlp": (256, ["--model", "mlp"]),
    "cnn": (128, ["--model", "cnn", "--optimizer", "adam", "--batch-size", "128",
                  "--train-subset", "6400"]),
}
MPI_ENV = dict(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


# --- 1. measured epochs ---------------------------------------------------------------------
def _epoch_seconds(options, ranks, threads, epochs):
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-m", "fastnn", "train", "--no-progress", "--epochs",
                str(epochs), "--threads", str(threads), "--out", out] + options
        if ranks:
            args = ["mpirun", "--oversubscribe", "-n", str(ranks)] + args + ["--distributed"]
        subprocess.run(args, check=True, capture_output=True, env={**os.environ, **MPI_ENV})
        timing = json.loads((Path(out) / "timing.json").read_text())
    return float(np.median([e["seconds"] for e in timing["epochs"]]))


def measure_epochs(rounds, epochs):
    setups = {"1 process, 1 thread": (0, 1), "1 process, 2 threads": (0, 2),
              "2 ranks x 1 thread": (2, 1), "3 ranks x 1 thread": (3, 1)}
    out = {}
    for model, (_, options) in RECIPES.items():
        times = {name: [] for name in setups}
        for _ in range(rounds):
            for name, (ranks, threads) in setups.items():
                times[name].append(_epoch_seconds(options, ranks, threads, epochs))
        ratios = [a / b for a, b in zip(times["2 ranks x 1 thread"], times["1 process, 2 threads"])]
        out[model] = {"median": {k: float(np.median(v)) for k, v in times.items()},
                      "rounds": times,
                      "two_ranks_over_two_threads": float(np.median(ratios))}
    return out


# --- 2. one rank's step, profiled -----------------------------------------------------------
def profile_steps(model_name, rows_list, repeats=7):
    import fastnn
    from fastnn import models, nn, optim

    fastnn.set_num_threads(1)
    fastnn.manual_seed(0)
    net = models.build(model_name)
    params = list(net.parameters())
    opt = (optim.Adam if model_name == "cnn" else optim.SGD)(params, lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    ready = [0.0] * len(params)
    index = {id(p): i for i, p in enumerate(params)}

    def hook(p):
        ready[index[id(p)]] = time.perf_counter()
    for p in params:
        p.register_post_accumulate_grad_hook(hook)
    rng = np.random.default_rng(0)
    profiles = {}
    for rows in rows_list:
        x = fastnn.tensor(rng.standard_normal((rows, 1, 28, 28)).astype(np.float32))
        y = fastnn.tensor(rng.integers(0, 10, rows))
        samples = []
        for i in range(repeats + 2):
            start = time.perf_counter()
            loss = loss_fn(net(x), y)
            opt.zero_grad()
            backward_start = time.perf_counter()
            loss.backward()
            backward_end = time.perf_counter()
            opt.step()
            end = time.perf_counter()
            if i >= 2:  # warm-up
                samples.append((end - start, backward_end - backward_start,
                                [t - backward_start for t in ready]))
        best = sorted(samples, key=lambda s: s[0])[len(samples) // 2]  # the median step
        sizes = [p._data.nbytes for p in params]
        profiles[rows] = sm.Profile(rows, best[0], best[1], sm.buckets(sizes, best[2]))
    return profiles


# --- 3. this machine's all-reduce -----------------------------------------------------------
SIZES = [4 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20]


def allreduce_probe():
    """Run under mpirun -n 2: rank 0 prints {bytes: median seconds} as JSON."""
    import fastnn
    import fastnn.distributed as dist

    dist.init_process_group("mpi")
    result = {}
    for nbytes in SIZES:
        t = fastnn.ones(nbytes // 4)
        times = []
        for _ in range(40):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            times.append(time.perf_counter() - start)
        result[nbytes] = float(np.median(times[5:]))
    if dist.get_rank() == 0:
        print(json.dumps(result))


def shared_memory_link():
    proc = subprocess.run(["mpirun", "-n", "2", sys.executable, __file__, "--probe-allreduce"],
                          check=True, capture_output=True, text=True,
                          env={**os.environ, **MPI_ENV})
    measured = {int(k): v for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}
    sizes = np.array(sorted(measured), dtype=float)
    times = np.array([measured[int(s)] for s in sizes])
    slope, intercept = np.polyfit(sizes, times, 1)  # N=2: t = 2 alpha + bytes / bandwidth
    link = sm.Link("this machine (shared memory)", 1 / slope, max(intercept / 2, 0.0))
    return link, measured


# --- 4. report ------------------------------------------------------------------------------
def predictions(profiles, link, cores=None):
    out = {}
    for model, (batch, _) in RECIPES.items():
        out[model] = {n: sm.speedup(profiles[model], batch, n, link, cores) for n in RANKS}
    return out


def write_report(measured, profiles, links, local, probe):
    cores = os.cpu_count() or 1
    predicted = {l.name: predictions(profiles, l) for l in links}
    predicted[local.name] = predictions(profiles, local, cores)
    lines = ["# Data-parallel scaling (fastnn train --distributed)", "",
             f"Measured on this machine ({cores} cores), medians of interleaved rounds; "
             f"epoch = training time of one epoch (MLP: 60,000 images, batch 256; CNN: 6,400 "
             f"images, batch 128, Adam).", "",
             "| model | 1 process, 1 thread | 1 process, 2 threads | 2 ranks x 1 thread | "
             "3 ranks x 1 thread | 2 ranks / 2 threads (paired) |",
             "|---|---:|---:|---:|---:|---:|"]
    for model, m in measured.items():
        med = m["median"]
        lines.append(f"| {model} | {med['1 process, 1 thread']:.3f} s | "
                     f"{med['1 process, 2 threads']:.3f} s | {med['2 ranks x 1 thread']:.3f} s | "
                     f"{med['3 ranks x 1 thread']:.3f} s | {m['two_ranks_over_two_threads']:.2f} |")
    lines += ["", f"All-reduce here (fastnn.distributed, 2 ranks): "
              f"{', '.join(f'{b >> 10} KiB {t * 1e6:.0f} us' for b, t in probe.items())}; "
              f"fit: alpha {local.alpha * 1e6:.1f} us, {local.bandwidth / 1e9:.1f} GB/s.", "",
              "Predicted speedup over one rank (fixed global batch; each rank computes B/N rows "
              "on one core; benches/scaling_model.py):", "",
              "| model | link | " + " | ".join(f"N={n}" for n in RANKS[1:]) + " |",
              "|---|---|" + "---:|" * (len(RANKS) - 1)]
    for model in RECIPES:
        for name, pred in predicted.items():
            shown = [n for n in RANKS[1:] if name != local.name or n <= cores]
            lines.append(f"| {model} | {name} | " + " | ".join(
                f"{pred[model][n]:.2f}" if n in shown else "" for n in RANKS[1:]) + " |")
    measured_speedup = {model: {n: m["median"]["1 process, 1 thread"] /
                                m["median"][f"{n} ranks x 1 thread"] for n in (2, 3)}
                        for model, m in measured.items()}
    local3 = {model: sm.speedup(profiles[model], RECIPES[model][0], 3, local, cores)
              for model in RECIPES}
    lines += ["", "Measured speedup here over one process with one thread, beside the model's "
              "prediction for this machine:", "",
              "| model | 2 ranks measured | 2 ranks predicted | 3 ranks measured | "
              "3 ranks predicted |", "|---|---:|---:|---:|---:|"]
    for model in RECIPES:
        lines.append(f"| {model} | {measured_speedup[model][2]:.2f} | "
                     f"{predicted[local.name][model][2]:.2f} | {measured_speedup[model][3]:.2f} | "
                     f"{local3[model]:.2f} |")
    lines += ["", "- The model takes one rank's step as profiled alone. Two ranks computing at "
              "once each ran about 25% slower here (in a 2-rank MLP epoch the ranks' compute "
              "took ~0.20 s against ~0.16 s for the same rows in one process alone: shared "
              "cache and memory bandwidth), most of the gap between measured and predicted "
              "at 2 ranks.",
              "- 3 ranks on 2 cores time-slice: a rank that is descheduled stalls every "
              "all-reduce, which the prediction (compute scaled by ranks/cores) does not "
              "capture. Oversubscribing is for testing correctness, not speed.",
              "- The network links' alpha (20 us over TCP for 10 Gbit/s, 3 us over RDMA for "
              "100 Gbit/s) and full-duplex bandwidth are assumptions; the shared-memory "
              "link is fitted from the all-reduce measured here."]
    (RESULTS / "scaling.md").write_text("\n".join(
        lines + ["", "![predicted and measured scaling](scaling.png)", ""]))
    from report import update_readme
    update_readme("\n".join(lines[2:] + [
        "", "![predicted and measured scaling](benches/results/scaling.png)"]), marker="scaling")
    _plot(predicted, measured_speedup, local3, local.name, cores)
    (RESULTS / "scaling.json").write_text(json.dumps(
        {"measured": measured, "predicted": predicted, "allreduce": probe}, indent=1))
    print("\n".join(lines))


def _plot(predicted, measured_speedup, local3, local_name, cores):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(RECIPES), figsize=(11, 4.2), sharey=True)
    for ax, model in zip(axes, RECIPES):
        ax.plot(RANKS, RANKS, color="0.75", linestyle=":", label="ideal")
        for name, pred in predicted.items():
            xs = RANKS if name != local_name else [n for n in RANKS if n <= cores]
            ax.plot(xs, [pred[model][n] for n in xs], marker="o", markersize=3, label=name)
        ms = measured_speedup[model]
        ax.plot(list(ms), list(ms.values()), "k*", markersize=11, label="measured here")
        ax.plot([3], [local3[model]], "x", color="C2", markersize=8,
                label="predicted here, 3 ranks")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=2)
        ax.set_xticks(RANKS, [str(n) for n in RANKS])
        ax.set_title(f"{model}: global batch {RECIPES[model][0]}")
        ax.set_xlabel("ranks (one core each)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("speedup over one rank")
    axes[-1].legend(fontsize=8, loc="upper left")
    fig.suptitle("fastnn data-parallel training: ring all-reduce model vs measurement")
    fig.tight_layout()
    fig.savefig(RESULTS / "scaling.png", dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probe-allreduce", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    if args.probe_allreduce:
        return allreduce_probe()
    local, probe = shared_memory_link()
    measured = measure_epochs(args.rounds, args.epochs)
    profiles = {}
    for model, (batch, _) in RECIPES.items():
        rows = sorted({-(-batch // n) for n in RANKS} | {-(-batch // 3)})
        profiles[model] = profile_steps(model, rows)
    write_report(measured, profiles, sm.LINKS, local, probe)


if __name__ == "__main__":
    main()
