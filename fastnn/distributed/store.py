"""torch.distributed's key-value stores: TCPStore (a server in the master process, clients in
every rank), HashStore (in one process) and PrefixStore (a namespace over another store).
init_process_group(store=...) uses one to exchange the ranks' addresses (gloo).

Values are bytes (a str is stored UTF-8 encoded, as torch's); get and wait block until the
keys exist or the store's timeout passes. The TCP protocol is fastnn's own: each request is
a length-prefixed pickle of (operation, arguments) answered the same way, one server thread
per connection.
"""
import datetime
import pickle
import socket
import struct
import threading
import time

_DEFAULT_TIMEOUT = datetime.timedelta(seconds=300)


def _seconds(timeout):
    return timeout.total_seconds() if isinstance(timeout, datetime.timedelta) else float(timeout)


def _as_bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, list):  # torch accepts a list of byte values too
        return bytes(value)
    raise TypeError(f"store values must be str or bytes, got {type(value).__name__}")


class _Table:
    """The keys and values, with the waiting that get/wait need (shared by HashStore and the
    TCP server)."""

    def __init__(self):
        self.data, self.changed = {}, threading.Condition()

    def set(self, key, value):
        with self.changed:
            self.data[key] = value
            self.changed.notify_all()

    def wait_for(self, keys, timeout):
        deadline = time.monotonic() + timeout
        with self.changed:
            while not all(k in self.data for k in keys):
                left = deadline - time.monotonic()
                if left <= 0 or not self.changed.wait(left):
                    if not all(k in self.data for k in keys):
                        missing = [k for k in keys if k not in self.data]
                        raise _Timeout(f"Socket Timeout: wait timed out after {timeout:g} s "
                                       f"for keys {missing}")
        return True

    def get(self, key, timeout):
        self.wait_for([key], timeout)
        with self.changed:
            return self.data[key]

    def add(self, key, amount):
        with self.changed:
            value = int(self.data.get(key, b"0")) + int(amount)
            self.data[key] = str(value).encode()
            self.changed.notify_all()
            return value

    def compare_set(self, key, expected, desired):
        with self.changed:
            current = self.data.get(key)
            if (current is None and expected == b"") or current == expected:
                self.data[key] = desired
                self.changed.notify_all()
                return desired
            return current if current is not None else expected

    def check(self, keys):
        with self.changed:
            return all(k in self.data for k in keys)

    def delete_key(self, key):
        with self.changed:
            return self.data.pop(key, None) is not None

    def num_keys(self):
        with self.changed:
            return len(self.data)

    def run(self, op, args):
        return getattr(self, op)(*args)


class _Timeout(RuntimeError):
    pass


class Store:
    """The interface every store has (torch.distributed.Store)."""

    def __init__(self, timeout=_DEFAULT_TIMEOUT):
        self._timeout = _seconds(timeout)

    @property
    def timeout(self):
        return datetime.timedelta(seconds=self._timeout)

    def set_timeout(self, timeout):
        self._timeout = _seconds(timeout)

    def set(self, key, value):
        self._call("set", str(key), _as_bytes(value))

    def get(self, key):
        return self._call("get", str(key), self._timeout)

    def add(self, key, amount):
        return self._call("add", str(key), int(amount))

    def compare_set(self, key, expected_value, desired_value):
        return self._call("compare_set", str(key), _as_bytes(expected_value),
                          _as_bytes(desired_value))

    def wait(self, keys, timeout=None):
        limit = self._timeout if timeout is None else _seconds(timeout)
        self._call("wait_for", [str(k) for k in keys], limit)

    def check(self, keys):
        return self._call("check", [str(k) for k in keys])

    def delete_key(self, key):
        return self._call("delete_key", str(key))

    def num_keys(self):
        return self._call("num_keys")

    def _call(self, op, *args):
        raise NotImplementedError


class HashStore(Store):
    """A store inside one process (threads share it)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, *args):
        try:
            return self._table.run(op, args)
        except _Timeout as exc:
            raise RuntimeError(str(exc)) from None


class PrefixStore(Store):
    """Every key of `store` under "prefix/"."""

    def __init__(self, prefix, store):
        super().__init__(store.timeout)
        self.prefix, self.underlying_store = prefix, store

    def _call(self, op, *args):
        """The underlying store's operation with the keys (the first argument: a key or a
        list of keys; num_keys has none) moved under the prefix."""
        if args:
            keys = args[0]
            keys = ([f"{self.prefix}/{k}" for k in keys] if isinstance(keys, list)
                    else f"{self.prefix}/{keys}")
            args = (keys,) + args[1:]
        return self.underlying_store._call(op, *args)


def _send(sock, obj):
    payload = pickle.dumps(obj)
    sock.sendall(struct.pack("<q", len(payload)) + payload)


def _receive(sock):
    header = _read(sock, 8)
    return pickle.loads(_read(sock, struct.unpack("<q", header)[0]))


def _read(sock, n):
    buf = bytearray(n)
    view = memoryview(buf)
    while len(view):
        got = sock.recv_into(view)
        if got == 0:
            raise ConnectionError("the store's connection closed")
        view = view[got:]
    return bytes(buf)


class _Server(threading.Thread):
    """The master's store: one thread per client connection."""

    def __init__(self, listener):
        super().__init__(daemon=True, name="fastnn-tcpstore")
        self.listener, self.table = listener, _Table()

    def run(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            while True:
                try:
                    op, args = _receive(conn)
                except (ConnectionError, OSError, EOFError):
                    return
                try:
                    reply = ("ok", self.table.run(op, args))
                except Exception as exc:  # noqa: BLE001 - sent back to the client
                    reply = ("error", str(exc))
                try:
                    _send(conn, reply)
                except OSError:
                    return


class TCPStore(Store):
    """TCPStore(host_name, port, world_size=None, is_master=False, timeout=300 s): the master
    serves the store on port (0: a free one, see .port); every process, the master included,
    is a client. With wait_for_workers and world_size, the master's constructor returns once
    world_size clients have connected."""

    def __init__(self, host_name, port, world_size=None, is_master=False,
                 timeout=_DEFAULT_TIMEOUT, wait_for_workers=True, multi_tenant=False,
                 master_listen_fd=None, use_libuv=True):
        super().__init__(timeout)
        self.host, self.world_size = host_name, world_size
        self._server = None
        if is_master:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listener.bind(("", int(port)))
            except OSError as exc:
                raise RuntimeError(f"The server socket has failed to listen on any local "
                                   f"network address. port: {port}, {exc}") from None
            listener.listen(128)
            port = listener.getsockname()[1]
            self._server = _Server(listener)
            self._server.start()
        self.port = int(port)
        self._lock = threading.Lock()
        self._sock = self._connect()
        self.add("__fastnn_clients", 1)
        if is_master and wait_for_workers and world_size:
            deadline = time.monotonic() + self._timeout
            while int(self.get("__fastnn_clients")) < int(world_size):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"TCPStore: {world_size} workers expected, timed out "
                                       f"after {self._timeout:g} s")
                time.sleep(0.01)

    def _connect(self):
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=10)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                sock.settimeout(None)
                return sock
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"TCPStore: could not connect to {self.host}:{self.port} "
                                       f"within {self._timeout:g} s") from None
                time.sleep(0.05)

    def _call(self, op, *args):
        with self._lock:
            _send(self._sock, (op, args))
            status, value = _receive(self._sock)
        if status == "error":
            raise RuntimeError(value)
        return value

    @property
    def libuvBackend(self):
        return False
