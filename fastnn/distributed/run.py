"""torchrun for fastnn (`python -m fastnn.distributed.run`, torch's `torch.distributed.run`):
starts --nproc-per-node copies of a training script with the environment torch's launcher
gives them (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), so
`init_process_group("gloo")` needs no arguments.

    python -m fastnn.distributed.run --nproc-per-node 2 train.py --epochs 3
    # two machines: the same command on each, with --nnodes 2 --node-rank 0|1
    #               --master-addr <node 0's address> --master-port 29500

The rendezvous is static (torch's --rdzv-backend=static): every node names its rank. If a
worker fails, the others are stopped and the launcher exits with the failed worker's code.
"""
import argparse
import os
import signal
import subprocess
import sys
import time


def _parser():
    p = argparse.ArgumentParser(prog="python -m fastnn.distributed.run",
                                description="Start a distributed training script's workers.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1,
                   help="workers on this machine (default 1)")
    p.add_argument("--nnodes", type=int, default=1, help="machines in the job (default 1)")
    p.add_argument("--node-rank", "--node_rank", type=int, default=0,
                   help="this machine's rank, 0..nnodes-1 (default 0)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1",
                   help="address of the machine with node rank 0 (default 127.0.0.1)")
    p.add_argument("--master-port", "--master_port", type=int, default=29500,
                   help="port rank 0 listens on for the rendezvous (default 29500)")
    p.add_argument("--standalone", action="store_true",
                   help="one machine; pick a free port instead of --master-port")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the script as a module (python -m)")
    p.add_argument("script", help="the training script (or module with -m)")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.nproc_per_node < 1 or args.nnodes < 1:
        raise SystemExit("--nproc-per-node and --nnodes must be at least 1")
    if not 0 <= args.node_rank < args.nnodes:
        raise SystemExit(f"--node-rank must be in [0, {args.nnodes - 1}]")
    port = _free_port() if args.standalone else args.master_port
    world = args.nnodes * args.nproc_per_node
    command = [sys.executable] + (["-m"] if args.module else []) + [args.script] \
        + args.script_args
    workers = []
    for local in range(args.nproc_per_node):
        env = dict(os.environ, RANK=str(args.node_rank * args.nproc_per_node + local),
                   LOCAL_RANK=str(local), WORLD_SIZE=str(world),
                   LOCAL_WORLD_SIZE=str(args.nproc_per_node), GROUP_RANK=str(args.node_rank),
                   MASTER_ADDR=args.master_addr, MASTER_PORT=str(port),
                   TORCHELASTIC_RUN_ID=os.environ.get("TORCHELASTIC_RUN_ID", "none"),
                   OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
        workers.append(subprocess.Popen(command, env=env))
    return _wait(workers)


def _wait(workers):
    """Every worker's exit; the first failure stops the rest (torch's default)."""
    try:
        while True:
            codes = [w.poll() for w in workers]
            failed = [c for c in codes if c not in (None, 0)]
            if failed:
                for w in workers:
                    if w.poll() is None:
                        w.send_signal(signal.SIGTERM)
                for w in workers:
                    try:
                        w.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        w.kill()
                return failed[0] if failed[0] > 0 else 1
            if all(c == 0 for c in codes):
                return 0
            time.sleep(0.05)
    except KeyboardInterrupt:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            w.wait()
        return 130


if __name__ == "__main__":
    sys.exit(main())
