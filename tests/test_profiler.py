"""torch.profiler / torch.autograd.profiler: ops, backward nodes and record_function ranges are
timed while a profile is active, and only then (the timed hooks are swapped out after)."""
import json

import fastnn
from fastnn.autograd import engine
from fastnn.autograd.function import Function
from fastnn.profiler import ProfilerActivity, profile, record_function, schedule


def test_autograd_profiler_table_as_in_the_intro_tutorial():
    x, y = fastnn.randn(2, 3, requires_grad=True), fastnn.rand(2, 3, requires_grad=True)
    z = fastnn.ones(2, 3, requires_grad=True)
    with fastnn.autograd.profiler.profile(use_cuda=False) as prf:
        for _ in range(50):
            z = (z / x) * y
    table = prf.key_averages().table(sort_by="self_cpu_time_total")
    lines = table.splitlines()
    assert lines[1].split() == ["Name", "Self", "CPU", "%", "Self", "CPU", "CPU", "total", "%",
                                "CPU", "total", "CPU", "time", "avg", "#", "of", "Calls"]
    rows = {line.split()[0]: line.split() for line in lines[3:-2]}
    assert set(rows) == {"fastnn::Div", "fastnn::Mul"}
    assert all(row[-1] == "50" for row in rows.values())
    assert lines[-1].startswith("Self CPU time total: ")
    shares = sum(float(row[1].rstrip("%")) for row in rows.values())
    assert abs(shares - 100.0) < 0.1  # self times split the whole


def test_record_function_nests_ops_and_backward_nodes(tmp_path):
    model = fastnn.nn.Linear(4, 2)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        with record_function("model_inference"):
            model(fastnn.randn(3, 4)).sum().backward()
    rows = {row.key: row for row in prof.key_averages()}
    outer = rows["model_inference"]
    assert outer.count == 1
    assert outer.cpu_time_total >= max(r.cpu_time_total for k, r in rows.items()
                                       if k != "model_inference")
    assert outer.self_cpu_time_total < outer.cpu_time_total  # its ops are its children
    assert any(k.startswith("autograd::engine::evaluate_function: ") for k in rows)
    shaped = prof.key_averages(group_by_input_shape=True)
    assert any(r.input_shapes and [3, 4] in r.input_shapes for r in shaped)
    trace = json.loads(open(prof.export_chrome_trace(str(tmp_path / "t.json"))).read())
    assert {e["ph"] for e in trace["traceEvents"]} == {"X"}


def test_schedule_phases_and_no_hooks_left_behind():
    original_apply, original_run = Function.__dict__["apply"], engine._run
    traces = []
    with profile(schedule=schedule(wait=1, warmup=1, active=2, repeat=1),
                 on_trace_ready=lambda p: traces.append(sum(r.count for r in p.key_averages()))) as p:
        for _ in range(6):
            (fastnn.ones(2, requires_grad=True) * 2).sum().backward()
            p.step()
    assert len(traces) == 1 and traces[0] > 0
    assert Function.__dict__["apply"] is original_apply and engine._run is original_run
    assert schedule(wait=1, warmup=1, active=2)(0).name == "NONE"
