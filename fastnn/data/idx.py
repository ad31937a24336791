"""Reading IDX files (the MNIST format): big-endian magic 0x00000801 (uint8 vectors, labels)
or 0x00000803 (uint8 3-D arrays, images), one uint32 per dimension, then the data.
Every field is checked before use, so a truncated or altered file raises IDXError."""
import gzip
import hashlib
import struct

import numpy as np

MAGIC_LABELS = 0x00000801
MAGIC_IMAGES = 0x00000803


class IDXError(ValueError):
    """An IDX file is corrupt, truncated, or not the file expected."""


def read_bytes(path):
    """The decompressed bytes of `path` (.gz or raw)."""
    with open(path, "rb") as f:
        head = f.read(2)
    try:
        if head == b"\x1f\x8b":
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as exc:  # gzip raises these on truncated or corrupt streams
        raise IDXError(f"{path}: cannot decompress ({exc}); the file is damaged or truncated") \
            from None


def parse(raw, path, magic, shape_tail=None):
    """The array stored in IDX bytes `raw`, checked against the expected magic and shape."""
    if len(raw) < 4:
        raise IDXError(f"{path}: {len(raw)} bytes is too short to be an IDX file")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise IDXError(f"{path}: wrong magic number 0x{found:08x}, expected 0x{magic:08x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: header truncated ({len(raw)} bytes)")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if shape_tail is not None and tuple(dims[1:]) != tuple(shape_tail):
        raise IDXError(f"{path}: dimensions {dims}, expected (N, {', '.join(map(str, shape_tail))})")
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(raw) != expected:
        raise IDXError(f"{path}: {len(raw)} bytes, but its header promises {expected}; "
                       "the file is truncated or has trailing data")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def sha256(raw):
    return hashlib.sha256(raw).hexdigest()
