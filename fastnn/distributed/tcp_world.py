"""The "gloo" process group: torch.distributed's CPU backend name, on plain TCP sockets, so the
usual CPU recipe runs unchanged without MPI:

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "localhost", "12355"
    dist.init_process_group("gloo", rank=rank, world_size=world_size)   # under mp.spawn,
                                                                         # torchrun or by hand
(This is fastnn's own transport under torch's name, not the Gloo library.)

Rendezvous: rank 0 listens on MASTER_ADDR:MASTER_PORT; every rank opens a listening socket on
a free port and reports it there; rank 0 sends everyone the table; each rank then connects to
its right neighbour, so the ranks form a ring (rank r sends to r+1 and receives from r-1).

Point-to-point messages (send/recv, isend/irecv) take their own connections: the first
message from rank a to rank b connects to b's listener (kept open after the rendezvous; an
accept thread takes the connections) and later ones reuse it. Each message is a (tag, size)
header and the bytes; a message whose tag the receiver is not waiting for is kept until a
recv asks for it, as MPI matches tags.

Collectives run on one worker thread per process in the order they were called (every rank
calls them in the same order, as torch requires), so async_op=True overlaps them with the
caller's work, and DistributedDataParallel's bucketed all-reduce overlaps backward.
All-reduce is the bandwidth-optimal ring (a reduce-scatter then an all-gather, each n-1 steps
of 1/n of the data: Patarasuk & Yuan 2009, the algorithm Horovod and NCCL use); broadcast
passes the data along the ring; all-gather is the ring's n-1 steps. In each step the send runs
on a second thread while the worker receives: two ranks sending megabytes to each other at
once would otherwise both block with full socket buffers.
"""
import ast
import collections
import queue
import select
import socket
import struct
import threading
import time

import numpy as np

# A send this small fits the socket's buffer (Linux starts a TCP send buffer at 16 KiB and
# the receive window at 128 KiB), so it cannot block even if the peer is sending too: it is
# sent on the worker thread, saving the hand-off to the sender thread (~30-100 us).
_INLINE_SEND_BYTES = 16 * 1024

_RING, _POINT_TO_POINT = 0, 1  # what a connection is for (its first message says)

_REDUCE = {"sum": np.add, "avg": np.add, "product": np.multiply, "min": np.minimum,
           "max": np.maximum}


class CollectiveError(RuntimeError):
    pass


class _Job:
    """One queued collective: run() on the worker thread; Test()/wait_for() from the caller."""

    def __init__(self, run):
        self.run, self.done, self.error = run, threading.Event(), None

    def Test(self):
        if self.done.is_set() and self.error is not None:
            raise self.error
        return self.done.is_set()

    def wait_for(self, limit):
        """True when done within `limit` seconds (re-raising the collective's error)."""
        if not self.done.wait(limit):
            return False
        if self.error is not None:
            raise self.error
        return True


class _Sender(threading.Thread):
    """Sends buffers to the right neighbour while the worker receives from the left."""

    def __init__(self, sock):
        super().__init__(daemon=True, name="fastnn-dist-send")
        self.sock, self.jobs, self.results = sock, queue.Queue(), queue.Queue()

    def run(self):
        while True:
            view = self.jobs.get()
            if view is None:
                return
            try:
                self.sock.sendall(view)
                self.results.put(None)
            except OSError as exc:
                self.results.put(exc)


def _recv_into(sock, view, peer):
    view = memoryview(view).cast("B")
    while len(view):
        try:
            n = sock.recv_into(view)
        except socket.timeout:
            raise CollectiveError(f"no data from rank {peer} within the timeout") from None
        if n == 0:
            raise CollectiveError(f"rank {peer} closed its connection (it has probably "
                                  f"exited or died)")
        view = view[n:]


def _recv_exact(sock, n):
    buf = bytearray(n)
    _recv_into(sock, buf, "?")
    return bytes(buf)


def _own_address():
    """This host's address as other machines reach it (for a file:// rendezvous):
    FASTNN_HOST if set, else the address of the interface that routes outwards, else
    loopback."""
    import os
    if os.environ.get("FASTNN_HOST"):
        return os.environ["FASTNN_HOST"]
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        address = probe.getsockname()[0]
        probe.close()
        return address
    except OSError:
        return "127.0.0.1"


def _connect(addr, port, deadline_s):
    start = time.monotonic()
    while True:
        try:
            sock = socket.create_connection((addr, port), timeout=10)
            break
        except OSError:
            if time.monotonic() - start > deadline_s:
                raise RuntimeError(f"could not connect to {addr}:{port} within {deadline_s:g} s "
                                   f"(is rank 0 running, and MASTER_ADDR/MASTER_PORT right?)")
            time.sleep(0.05)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class TCPWorld:
    """The default process group of the "gloo" backend: rank, size, the ring's two sockets
    and the worker thread."""

    backend = "gloo"
    oversubscribed = False

    def __init__(self, rank, size, master_addr, master_port, timeout, file=None, store=None):
        self.rank, self.size, self.timeout = rank, size, timeout
        self._file, self._store = file, store
        self._broken = None
        self.left = self.right = None
        self._listener, self._table = None, {}
        self._incoming, self._outgoing = {}, {}  # peer rank -> point-to-point socket
        self._arrived = threading.Condition()  # a connection came in, or a message to self
        self._send_locks, self._recv_locks = {}, {}
        self._kept = collections.defaultdict(collections.deque)  # (src, tag) -> payloads
        if size > 1:
            self._rendezvous(master_addr, master_port)
        self._jobs = queue.Queue()
        self._worker = threading.Thread(target=self._serve, daemon=True,
                                        name="fastnn-dist-worker")
        self._worker.start()

    # --- set-up ---------------------------------------------------------------------------
    def _rendezvous(self, master_addr, master_port):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("", 0))
        listener.listen(2)
        listener.settimeout(self.timeout)
        my_port = listener.getsockname()[1]
        if self._store is not None:
            table = self._exchange_through_store(my_port)
        elif self._file is not None:
            table = self._exchange_through_file(my_port)
        else:
            table = self._exchange_addresses(master_addr, master_port, my_port)
        right = (self.rank + 1) % self.size
        self.right = _connect(*table[right], self.timeout)
        self.right.sendall(struct.pack("<qq", _RING, self.rank))
        left = None
        while left is None:  # a point-to-point connection may come in before the ring's
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                listener.close()
                raise RuntimeError(f"rank {(self.rank - 1) % self.size} did not connect within "
                                   f"{self.timeout:g} s") from None
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            kind, peer = struct.unpack("<qq", _recv_exact(conn, 16))
            if kind == _POINT_TO_POINT:
                self._register(peer, conn)
                continue
            if peer != (self.rank - 1) % self.size:
                raise RuntimeError(f"rank {self.rank}: expected rank "
                                   f"{(self.rank - 1) % self.size} on the left, got rank {peer}")
            left = conn
        self.left = left
        self._listener, self._table = listener, table
        listener.settimeout(None)
        threading.Thread(target=self._accept, daemon=True, name="fastnn-dist-accept").start()
        # The ring's sockets give up a second after the collective's own wait does: the wait
        # (process_group._timed_out) then always reports first, naming the collective and the
        # rank; the socket's timeout only frees a worker thread left blocked in recv.
        self.left.settimeout(self.timeout + 1.0)
        self.right.settimeout(self.timeout + 1.0)
        self._sender = _Sender(self.right)
        self._sender.start()

    def _exchange_addresses(self, master_addr, master_port, my_port):
        """Every rank's (host, port) for its ring listener, gathered by rank 0."""
        if self.rank == 0:
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                server.bind(("", master_port))
            except OSError as exc:
                raise RuntimeError(f"rank 0 could not listen on port {master_port} "
                                   f"(MASTER_PORT): {exc}") from None
            server.listen(self.size)
            server.settimeout(self.timeout)
            table, conns = {0: (master_addr, my_port)}, []
            try:
                while len(table) < self.size:
                    conn, (peer_host, _) = server.accept()
                    rank, port = struct.unpack("<qq", _recv_exact(conn, 16))
                    if rank in table or not 0 < rank < self.size:
                        raise RuntimeError(f"rendezvous: a process reported rank {rank}, "
                                           f"which is taken or outside world_size "
                                           f"{self.size}")
                    table[rank] = (peer_host, port)
                    conns.append(conn)
            except socket.timeout:
                raise RuntimeError(f"rendezvous: {self.size - len(table)} of {self.size} "
                                   f"ranks did not join within {self.timeout:g} s") from None
            finally:
                server.close()
            payload = repr(sorted(table.items())).encode()
            for conn in conns:
                conn.sendall(struct.pack("<q", len(payload)) + payload)
                conn.close()
            return table
        conn = _connect(master_addr, master_port, self.timeout)
        conn.settimeout(self.timeout)
        conn.sendall(struct.pack("<qq", self.rank, my_port))
        (n,) = struct.unpack("<q", _recv_exact(conn, 8))
        table = dict(ast.literal_eval(_recv_exact(conn, n).decode()))
        conn.close()
        table[0] = (master_addr, table[0][1])  # rank 0 as this rank reaches it
        return table

    def _exchange_through_store(self, my_port):
        """init_process_group(store=...): every rank sets its address under its rank's key
        and reads the others' (get waits for them, up to the store's timeout)."""
        self._store.set(f"fastnn/gloo/address/{self.rank}", f"{_own_address()} {my_port}")
        table = {}
        for rank in range(self.size):
            host, port = self._store.get(f"fastnn/gloo/address/{rank}").decode().split()
            table[rank] = (host, int(port))
        return table

    def _exchange_through_file(self, my_port):
        """init_method="file:///path": every rank appends "rank host port" to the shared file
        (under an exclusive lock) and reads it until all world_size ranks are there. The last
        rank to leave destroy_process_group removes the file, as torch's FileStore."""
        import fcntl
        import os
        host = _own_address()
        deadline = time.monotonic() + self.timeout
        with open(self._file, "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.write(f"{self.rank} {host} {my_port}\n")
                f.flush()
                os.fsync(f.fileno())
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        while True:
            with open(self._file) as f:
                fcntl.flock(f, fcntl.LOCK_SH)
                try:
                    lines = f.read().split("\n")
                finally:
                    fcntl.flock(f, fcntl.LOCK_UN)
            table = {}
            for line in lines:
                parts = line.split()
                if len(parts) == 3 and parts[0].isdigit():
                    rank = int(parts[0])
                    if rank in table or rank >= self.size:
                        raise RuntimeError(f"rendezvous file {self._file}: rank {rank} appears "
                                           f"twice or is outside world_size {self.size} (a "
                                           f"file left by an earlier job? it must be new or "
                                           f"empty)")
                    table[rank] = (parts[1], int(parts[2]))
            if len(table) == self.size:
                return table
            if time.monotonic() > deadline:
                raise RuntimeError(f"rendezvous: {self.size - len(table)} of {self.size} ranks "
                                   f"did not join through {self._file} within "
                                   f"{self.timeout:g} s")
            time.sleep(0.01)

    def _leave_file(self):
        """Count this rank out of the rendezvous file; the last one removes it."""
        import fcntl
        import os
        try:
            with open(self._file, "a+") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                f.write(f"left {self.rank}\n")
                f.flush()
                f.seek(0)
                left = sum(1 for line in f.read().split("\n") if line.startswith("left "))
                if left >= self.size:
                    os.unlink(self._file)
                fcntl.flock(f, fcntl.LOCK_UN)
        except OSError:
            pass

    def close(self):
        if self._file is not None and self.size > 1:
            self._leave_file()
        self._jobs.put(None)
        self._worker.join(timeout=5)
        if self.size > 1:
            self._sender.jobs.put(None)
            for sock in (self.left, self.right, self._listener, *self._incoming.values(),
                         *self._outgoing.values()):
                try:
                    sock.close()
                except OSError:
                    pass

    # --- the worker ---------------------------------------------------------------------------
    def _serve(self):
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                if self._broken is not None:
                    raise CollectiveError(f"an earlier collective failed: {self._broken}")
                job.run()
            except Exception as exc:  # noqa: BLE001 - handed to the caller's wait()
                self._broken = self._broken or exc
                job.error = exc if isinstance(exc, RuntimeError) else RuntimeError(str(exc))
            job.done.set()

    def submit(self, run):
        job = _Job(run)
        self._jobs.put(job)
        return job

    def _step(self, send, recv):
        """Send `send` right while receiving `recv` from the left (either may be empty)."""
        data = memoryview(send).cast("B")
        inline = len(data) <= _INLINE_SEND_BYTES
        if inline and len(data):
            try:
                self.right.sendall(data)
            except OSError as err:
                raise CollectiveError(f"sending to rank {(self.rank + 1) % self.size} "
                                      f"failed: {err}") from None
        elif len(data):
            self._sender.jobs.put(data)
        if len(recv):
            _recv_into(self.left, recv, (self.rank - 1) % self.size)
        if len(data) and not inline:
            err = self._sender.results.get()
            if err is not None:
                raise CollectiveError(f"sending to rank {(self.rank + 1) % self.size} failed: "
                                      f"{err}")

    # --- collectives (run on the worker; `array` is the tensor's contiguous buffer) -----------
    def all_reduce(self, array, op):
        n = self.size
        if n == 1:
            return
        flat = array.reshape(-1)
        bounds = np.linspace(0, flat.size, n + 1).astype(np.int64)
        chunks = [flat[bounds[i]:bounds[i + 1]] for i in range(n)]
        scratch = np.empty(max(len(c) for c in chunks), dtype=flat.dtype)
        reduce = _REDUCE[op]
        r = self.rank
        for step in range(n - 1):  # reduce-scatter: chunk (r+1) % n ends complete here
            out_chunk, in_chunk = chunks[(r - step) % n], chunks[(r - step - 1) % n]
            incoming = scratch[:len(in_chunk)]
            self._step(out_chunk, incoming)
            reduce(in_chunk, incoming, out=in_chunk)
        for step in range(n - 1):  # all-gather of the complete chunks
            self._step(chunks[(r + 1 - step) % n], chunks[(r - step) % n])

    def broadcast(self, array, src):
        n = self.size
        if n == 1:
            return
        data = array.reshape(-1).view(np.uint8)
        position = (self.rank - src) % n
        empty = data[:0]
        if position > 0:
            self._step(empty, data)
        if position < n - 1:
            self._step(data, empty)

    def all_gather(self, gathered):
        """gathered: (size, nbytes) uint8 with this rank's row filled in."""
        n, r = self.size, self.rank
        for step in range(n - 1):
            self._step(gathered[(r - step) % n], gathered[(r - step - 1) % n])

    # --- point-to-point (on the caller's thread, or an isend/irecv thread) ---------------------
    def _register(self, peer, conn):
        conn.settimeout(self.timeout)
        with self._arrived:
            self._incoming[peer] = conn
            self._arrived.notify_all()

    def _accept(self):
        """Take the point-to-point connections other ranks open to this one."""
        while True:
            try:
                conn, _ = self._listener.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.settimeout(self.timeout)
                kind, peer = struct.unpack("<qq", _recv_exact(conn, 16))
            except (OSError, CollectiveError):
                if self._listener.fileno() < 0:
                    return  # closed
                continue
            self._register(peer, conn)

    def send(self, dst, tag, data):
        """data (bytes-like) to rank dst, as one message with this tag."""
        data = memoryview(data).cast("B")
        if dst == self.rank:  # isend to oneself: kept for the matching irecv
            with self._arrived:
                self._kept[(dst, tag)].append(bytes(data))
                self._arrived.notify_all()
            return
        with self._send_locks.setdefault(dst, threading.Lock()):
            sock = self._outgoing.get(dst)
            try:
                if sock is None:
                    sock = _connect(*self._table[dst], self.timeout)
                    sock.settimeout(self.timeout)
                    sock.sendall(struct.pack("<qq", _POINT_TO_POINT, self.rank))
                    self._outgoing[dst] = sock
                sock.sendall(struct.pack("<qq", tag, len(data)))
                sock.sendall(data)
            except OSError as err:
                raise CollectiveError(f"sending to rank {dst} failed: {err}") from None

    def recv(self, src, tag, out):
        """The next message with this tag from rank src (None: any rank) into `out` (a
        writable bytes-like of the message's size); returns the sender's rank."""
        out = memoryview(out).cast("B")
        deadline = time.monotonic() + self.timeout
        while True:
            found = self._take_kept(src, tag)
            if found is not None:
                sender, payload = found
                _fit(out, len(payload), sender)
                out[:] = payload
                return sender
            peer = src if src is not None else self._readable_peer(deadline)
            if peer is None:
                continue
            if peer == self.rank:  # from oneself: wait for the isend's message
                self._wait_arrival(deadline, f"a message from rank {peer} (itself)")
                continue
            lock = self._recv_locks.setdefault(peer, threading.Lock())
            if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise CollectiveError(f"no message from rank {peer} within the timeout")
            try:
                if self._take_kept(peer, tag, peek=True):
                    continue  # another thread kept one for us meanwhile
                sock = self._connection_from(peer, deadline)
                got_tag, n = struct.unpack("<qq", _recv_exact_from(sock, 16, peer))
                if got_tag == tag:
                    _fit(out, n, peer, sock)
                    _recv_into(sock, out, peer)
                    return peer
                payload = bytearray(n)  # another tag: keep it for the recv that wants it
                _recv_into(sock, payload, peer)
                with self._arrived:
                    self._kept[(peer, got_tag)].append(bytes(payload))
                    self._arrived.notify_all()
            finally:
                lock.release()

    def _take_kept(self, src, tag, peek=False):
        with self._arrived:
            keys = [(src, tag)] if src is not None else [k for k in self._kept if k[1] == tag]
            for key in keys:
                if self._kept.get(key):
                    return True if peek else (key[0], self._kept[key].popleft())
        return None

    def _wait_arrival(self, deadline, what):
        with self._arrived:
            if not self._arrived.wait(timeout=max(0.0, deadline - time.monotonic())):
                raise CollectiveError(f"no {what} within the timeout")

    def _connection_from(self, peer, deadline):
        with self._arrived:
            while peer not in self._incoming:
                left = deadline - time.monotonic()
                if left <= 0 or not self._arrived.wait(timeout=left):
                    raise CollectiveError(f"rank {peer} did not send within the timeout")
            return self._incoming[peer]

    def _readable_peer(self, deadline):
        """A rank whose connection has data (recv from any source), or None after a short
        wait (the caller looks at the kept messages again)."""
        if time.monotonic() > deadline:
            raise CollectiveError("no message from any rank within the timeout")
        with self._arrived:
            socks = dict(self._incoming)
        if not socks:
            try:
                self._wait_arrival(min(deadline, time.monotonic() + 0.05), "connection")
            except CollectiveError:
                pass
            return None
        ready, _, _ = select.select(list(socks.values()), [], [], 0.05)
        for peer, sock in socks.items():
            if sock in ready:
                return peer
        return None


def _recv_exact_from(sock, n, peer):
    buf = bytearray(n)
    _recv_into(sock, buf, peer)
    return bytes(buf)


def _fit(out, n, peer, sock=None):
    if n != len(out):
        if sock is not None:  # drop the message so the connection stays in step
            _recv_into(sock, bytearray(n), peer)
        raise CollectiveError(f"recv: rank {peer} sent {n} bytes, but the tensor to receive into "
                              f"has {len(out)} (shape and dtype must match the sent tensor's)")


class TCPSubGroup:
    """A group of some of the ranks (new_group(ranks)) on the gloo backend: its collectives go
    over the world's point-to-point connections under the group's own tag, queued on the
    world's worker thread in call order. They run as a star around the group's first rank
    (it receives every member's data, reduces and sends the result back): bandwidth grows
    with the group, which suits the small groups programs make for bookkeeping, while the
    world's own collectives keep the ring."""

    backend = "gloo"
    oversubscribed = False

    def __init__(self, world, ranks, tag):
        self.world, self.ranks, self.tag = world, list(ranks), tag
        self.rank = self.ranks.index(world.rank) if world.rank in self.ranks else -1
        self.size, self.timeout = len(self.ranks), world.timeout

    def submit(self, run):
        return self.world.submit(run)

    def _send(self, member, array):
        self.world.send(self.ranks[member], self.tag, array.reshape(-1).view(np.uint8))

    def _recv(self, member, array):
        self.world.recv(self.ranks[member], self.tag, array.reshape(-1).view(np.uint8))

    def all_reduce(self, array, op):
        if self.rank == 0:
            incoming = np.empty_like(array)
            for member in range(1, self.size):
                self._recv(member, incoming)
                _REDUCE[op](array, incoming, out=array)
            for member in range(1, self.size):
                self._send(member, array)
        else:
            self._send(0, array)
            self._recv(0, array)

    def broadcast(self, array, src):
        if self.rank == src:
            for member in range(self.size):
                if member != src:
                    self._send(member, array)
        else:
            self._recv(src, array)

    def all_gather(self, gathered):
        if self.rank == 0:
            for member in range(1, self.size):
                self._recv(member, gathered[member])
            for member in range(1, self.size):
                self._send(member, gathered)
        else:
            self._send(0, gathered[self.rank])
            self._recv(0, gathered)

    def close(self):
        pass
