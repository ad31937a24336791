"""torch.multiprocessing: Python's multiprocessing, with tensors in shared memory shared between
the processes (Tensor.share_memory_ / Module.share_memory: the block's name is what travels
when a tensor is pickled to a child or through a Queue), and torch's spawn(fn, args, nprocs)
helper, which runs fn(rank, *args) in nprocs processes and re-raises a child's failure."""
import multiprocessing as _mp
from multiprocessing import *  # noqa: F401,F403  (Process, Queue, Pool, get_context, ...)


class ProcessRaisedException(Exception):
    """A spawned process's exception, with its traceback text, raised in the parent."""

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.error_index, self.pid = error_index, error_pid


class ProcessExitedException(ProcessRaisedException):
    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name


def _wrap(fn, rank, args, errors):
    import traceback
    try:
        fn(rank, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        errors.put(traceback.format_exc())
        raise SystemExit(1)


class ProcessContext:
    def __init__(self, processes, error_queues):
        self.processes, self.error_queues = processes, error_queues

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        """Wait for every process; a failed one's error is raised here (the others are
        terminated), as torch's ProcessContext.join."""
        for p in self.processes:
            p.join(timeout)
        for index, (p, queue) in enumerate(zip(self.processes, self.error_queues)):
            if p.exitcode not in (0, None):
                for other in self.processes:
                    if other.is_alive():
                        other.terminate()
                if not queue.empty():
                    text = queue.get()
                    raise ProcessRaisedException(
                        f"\n\n-- Process {index} terminated with the following error:\n{text}",
                        index, p.pid)
                raise ProcessExitedException(
                    f"process {index} terminated with exit code {p.exitcode}", index, p.pid,
                    p.exitcode)
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    context = _mp.get_context(start_method)
    processes, queues = [], []
    for rank in range(nprocs):
        queue = context.SimpleQueue()
        process = context.Process(target=_wrap, args=(fn, rank, args, queue), daemon=daemon)
        process.start()
        processes.append(process)
        queues.append(queue)
    ctx = ProcessContext(processes, queues)
    if not join:
        return ctx
    ctx.join()
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """fn(i, *args) in nprocs new processes (i = 0 .. nprocs-1)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


def get_sharing_strategy():
    return "file_system"


def set_sharing_strategy(new_strategy):
    if new_strategy not in get_all_sharing_strategies():
        raise AssertionError(f"invalid sharing strategy {new_strategy}")


def get_all_sharing_strategies():
    return {"file_descriptor", "file_system"}
