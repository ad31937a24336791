"""Render pytest-benchmark's JSON as benches/results/latest.md (a table per benchmark:
median time, GFLOP/s where it applies, speed relative to PyTorch) and latest.png (the compiled
backend's speed relative to PyTorch per benchmark at 1 and 2 threads, log scale).

    python benches/report.py benches/results/latest.json
"""
import json
import sys
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


# paired ratios a benchmark may record in extra_info (measured back to back, see conftest.py)
PAIRED = ("peak_fraction", "vs_compiled", "vs_one_thread", "vs_float32", "vs_im2col",
          "vs_torch", "vs_numpy")


def load(path):
    data = json.loads(Path(path).read_text())
    rows = []
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        rows.append(dict(group=info["group"], contender=info["contender"],
                         threads=info["threads"], flops=info.get("flops"),
                         median=bench["stats"]["median"], rounds=bench["stats"]["rounds"],
                         paired={k: info[k] for k in PAIRED if k in info},
                         busy=info.get("busy_core_detections", 0)))
    return data, rows


def machine_header(data):
    m = data.get("machine_info", {})
    cpu = m.get("cpu", {})
    brand = cpu.get("brand_raw") or m.get("processor") or "unknown CPU"
    flags = set(cpu.get("flags", []))
    isa = "avx512" if "avx512f" in flags else "avx2" if "avx2" in flags else "generic"
    import fastnn
    lines = [
        f"- CPU: {brand} ({cpu.get('count', '?')} logical cores), best kernel ISA: {isa}",
        f"- Python {m.get('python_version', '?')}, fastnn {fastnn.__version__}, "
        f"run {data.get('datetime', '?')}",
        "- Threads: each table is run at the stated thread count for every contender "
        "(fastnn.set_num_threads, torch.set_num_threads, threadpoolctl for NumPy's BLAS).",
        "- Ratio vs torch = torch median time / contender median time (above 1: faster than "
        "PyTorch).",
    ]
    return "\n".join(lines)


def fmt_time(seconds):
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} µs"


def tables(rows):
    groups = defaultdict(list)
    for r in rows:
        groups[(r["group"], r["threads"])].append(r)
    out = []
    for (group, threads), items in sorted(groups.items()):
        torch_time = next((r["median"] for r in items if r["contender"] == "torch"), None)
        out.append(f"\n### {group} — {threads} thread{'s' if threads > 1 else ''}\n")
        out.append("| contender | median | GFLOP/s | vs torch |")
        out.append("|---|---:|---:|---:|")
        for r in sorted(items, key=lambda r: r["median"]):
            gflops = f"{r['flops'] / r['median'] / 1e9:.1f}" if r["flops"] else ""
            ratio = f"{torch_time / r['median']:.2f}x" if torch_time else ""
            out.append(f"| {r['contender']} | {fmt_time(r['median'])} | {gflops} | {ratio} |")
    return "\n".join(out)


def chart(rows, path):
    """One row per benchmark: the compiled backend's speed relative to PyTorch at 1 and 2
    threads, on a log scale around 1 (right of the line: faster than PyTorch), sorted so the
    losses sit together at the top. The other backends and NumPy are in latest.md."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    import numpy as np

    speed = defaultdict(dict)  # benchmark -> threads -> torch time / fastnn time
    for g in {(r["group"], r["threads"]) for r in rows}:
        items = {r["contender"]: r["median"] for r in rows if (r["group"], r["threads"]) == g}
        if "torch" in items and "fastnn-cython" in items:
            speed[g[0]][g[1]] = items["torch"] / items["fastnn-cython"]
    if not speed:
        return
    names = sorted(speed, key=lambda name: min(speed[name].values()), reverse=True)
    threads = sorted({t for ratios in speed.values() for t in ratios})
    height = 0.8 / len(threads)
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(names) + 1.6))
    ys = np.arange(len(names))
    colors = {1: "#4c72b0", 2: "#dd8452"}
    for i, t in enumerate(threads):
        values = [speed[name].get(t, np.nan) for name in names]
        y = ys + (i - (len(threads) - 1) / 2) * height
        ax.barh(y, values, height, color=colors.get(t, None),
                label=f"{t} thread{'s' if t > 1 else ''}")
        for yy, v in zip(y, values):
            if np.isfinite(v):
                ax.text(v * 1.03, yy, f"{v:.2f}x", va="center", fontsize=6)
    ax.set_xscale("log")
    finite = [v for ratios in speed.values() for v in ratios.values() if np.isfinite(v)]
    ax.set_xlim(min(0.8, min(finite) / 1.3), max(1.25, max(finite) * 1.6))
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50) if ax.get_xlim()[0] <= t
             <= ax.get_xlim()[1]]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}x" for t in ticks])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.axvline(1.0, color="black", linewidth=0.9)
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlabel("fastnn speed relative to PyTorch (PyTorch time / fastnn time; right of 1: "
                  "fastnn faster)")
    ax.set_title("fastnn (compiled backend) against PyTorch, same machine, same thread count")
    ax.grid(axis="x", which="both", linewidth=0.3, alpha=0.5)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def summary(rows):
    """One line per benchmark and thread count: fastnn (compiled), NumPy, PyTorch, ratio."""
    by = defaultdict(dict)
    for r in rows:
        by[(r["group"], r["threads"])][r["contender"]] = r
    out = ["| benchmark | threads | fastnn | NumPy | PyTorch | fastnn vs PyTorch |",
           "|---|---:|---:|---:|---:|---:|"]
    for (group, threads), items in sorted(by.items()):
        ours = items.get("fastnn-cython") or items.get("probe-avx512")
        if ours is None:
            continue
        numpy = items.get("numpy") or items.get("numpy (forward only)")
        torch = items.get("torch")

        def cell(r):
            if r is None:
                return ""
            text = fmt_time(r["median"])
            if r["flops"]:
                text += f" ({r['flops'] / r['median'] / 1e9:.0f} GFLOP/s)"
            return text

        ratio = f"{torch['median'] / ours['median']:.2f}x" if torch else ""
        if ours.get("busy"):
            ratio += " ‡"
        np_cell = cell(numpy) + (" fwd only" if "numpy (forward only)" in items else "")
        out.append(f"| {group} | {threads} | {cell(ours)} | {np_cell} | {cell(torch)} | {ratio} |")
    notes = []
    if any(r.get("busy") for r in rows if r["contender"] == "fastnn-cython"):
        notes.append("- ‡: fastnn's busy-core adaptation (kernels/threads.c) saw one of its "
                     "threads held up during this benchmark (another process, or the VM's host, "
                     "on a core) and ran regions on one thread for a while.")
    for r in sorted(rows, key=lambda r: (r["group"], r["threads"])):
        if "peak_fraction" in r["paired"]:
            notes.append(f"- {r['group']}: {r['paired']['peak_fraction']:.0%} of the FMA probe's "
                         "peak, from probe and product run back to back (median of 5 pairs).")
        if "vs_compiled" in r["paired"]:
            notes.append(f"- {r['group']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         "the Numba backend takes "
                         f"{r['paired']['vs_compiled']:.2f}x the compiled backend's time, from "
                         "epochs run back to back (median of 3 pairs).")
        if "vs_float32" in r["paired"]:
            notes.append(f"- {r['group']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         f"fastnn's bfloat16 GEMM runs {r['paired']['vs_float32']:.2f}x as fast "
                         "as its float32 GEMM, from products run back to back (median of 5 "
                         "pairs; goal >= 1.6).")
        if "vs_torch" in r["paired"]:
            notes.append(f"- {r['group']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         f"fastnn's matmul runs {r['paired']['vs_torch']:.2f}x as fast as "
                         "torch's, from products run back to back in one process (median of 7 "
                         "pairs; goal >= 1).")
        if "vs_numpy" in r["paired"]:
            notes.append(f"- {r['group']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         f"fastnn's product takes {r['paired']['vs_numpy']:.2f}x NumPy's time, "
                         "from products run back to back (median of 9 pairs; goal <= 1.2).")
        if "vs_im2col" in r["paired"]:
            notes.append(f"- {r['group']}, {r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         f"with every pass on im2col + GEMM the step takes "
                         f"{r['paired']['vs_im2col']:.2f}x the time of the default (stride-1 "
                         "passes as implicit GEMMs, 3x3 ones by Winograd), run back to back (median of 5 "
                         "pairs).")
        if "vs_one_thread" in r["paired"]:
            notes.append(f"- {r['group']}, {r['contender']}: 2 threads take "
                         f"{r['paired']['vs_one_thread']:.2f}x the 1-thread epoch's time beside "
                         "the same busy process (median of 3 back-to-back pairs; goal <= 1.15).")
    return "\n".join(out + ([""] + notes if notes else []))


def update_readme(text, readme=Path(__file__).parent.parent / "README.md", marker="bench"):
    """Replace what stands between the README's `marker` comments with `text`."""
    start, end = f"<!-- {marker}:start -->", f"<!-- {marker}:end -->"
    if not readme.exists():
        return
    content = readme.read_text()
    if start in content and end in content:
        head, rest = content.split(start, 1)
        _, tail = rest.split(end, 1)
        readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main(path):
    data, rows = load(path)
    md = ["# fastnn benchmark results", "", machine_header(data), "", "## Summary", "",
          summary(rows), "", "## All contenders", tables(rows), ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.md").write_text("\n".join(md))
    chart(rows, RESULTS / "latest.png")
    update_readme(machine_header(data) + "\n\n" + summary(rows) +
                  "\n\n![speed relative to PyTorch](benches/results/latest.png)")
    print(f"wrote {RESULTS / 'latest.md'} and {RESULTS / 'latest.png'}; updated README.md")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else RESULTS / "latest.json")
