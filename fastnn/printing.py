"""How a tensor prints: torch's layout, number formats and print options.

A tutorial's output is part of what a port must reproduce, and NumPy's array2string differs from
torch's printing in ways a reader notices: NumPy prints the shortest digits (0.71 where torch
prints 0.7100), counts zeros and infinities when it sizes the columns, and wraps lines by
characters rather than by whole elements. The rules torch follows (torch/_tensor_str.py):

* One format for the whole tensor, chosen from its finite non-zero values (of the summarised
  elements, for a tensor above `threshold` elements): whole numbers print as `1.`, others
  with `precision` decimals, and exponents are used when the largest over the smallest
  exceeds 1000, the largest exceeds 1e8 or (not whole) the smallest is below 1e-4.
* Every element is right-aligned to the widest finite non-zero one.
* A vector wraps after as many elements as fit in `linewidth`; a summarised axis shows
  `edgeitems` at each end around `...`.
* Suffixes (size, dtype, grad_fn, requires_grad) go on a new line when the last line would
  pass `linewidth`.
"""
import math
from dataclasses import dataclass

import numpy as np


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """torch.set_printoptions: a profile ('default', 'short', 'full') first, then the options
    given; sci_mode True/False forces exponents on or off, None lets each tensor choose."""
    for key, value in _PROFILES.get(profile, {}).items():  # (torch ignores other profiles)
        setattr(PRINT_OPTS, key, value)
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, key, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options as a dict (torch._tensor_str.get_printoptions)."""
    return dict(vars(PRINT_OPTS))


class _Formatter:
    """One number format and column width for every element of a tensor."""

    def __init__(self, shown):
        self.floating = shown.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        values = shown.ravel().tolist()
        if not self.floating:
            self.width = max((len(str(v)) for v in values), default=1)
            return
        finite = [v for v in values if math.isfinite(v) and v != 0]
        if finite:
            magnitudes = [abs(v) for v in finite]
            largest, smallest = max(magnitudes), min(magnitudes)
            self.int_mode = all(v == math.ceil(v) for v in finite)
            spread = largest / smallest > 1000.0 or largest > 1.0e8
            self.sci_mode = spread if self.int_mode else spread or smallest < 1.0e-4
        if finite:  # (with none, torch keeps '0.', 'nan', 'inf' whatever sci_mode says)
            if PRINT_OPTS.sci_mode is not None:  # forced: the columns are sized for it
                self.sci_mode = PRINT_OPTS.sci_mode
            if self.sci_mode:
                self.width = max(len(f"{v:.{PRINT_OPTS.precision}e}") for v in finite)
            elif self.int_mode:
                self.width = max(len(f"{v:.0f}") + 1 for v in finite)
            else:
                self.width = max(len(f"{v:.{PRINT_OPTS.precision}f}") for v in finite)

    def format(self, value):
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("." if math.isfinite(value) else "")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return " " * (self.width - len(text)) + text


class _ComplexFormatter:
    """torch's complex elements: the real parts in one format, the imaginary parts in another
    (each chosen from its own values), printed `real+imagj`; the imaginary part keeps its sign,
    so -0.0 prints as `1.-0.j` as in torch."""

    def __init__(self, shown):
        self.real, self.imag = _Formatter(shown.real), _Formatter(shown.imag)
        self.width = self.real.width + self.imag.width + 1  # (the 'j')

    def format(self, value):
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + ("" if imag[0] in "+-" else "+") + imag


def _summarised(data):
    """The elements a summarised print shows: `edgeitems` at both ends of every long axis."""
    edge = PRINT_OPTS.edgeitems
    for axis in range(data.ndim):
        if data.shape[axis] > 2 * edge:
            keep = np.r_[0:edge, data.shape[axis] - edge:data.shape[axis]]
            data = np.take(data, keep, axis=axis)
    return data


def _vector(data, indent, summarize, formatter):
    per_line = max(1, int((PRINT_OPTS.linewidth - indent) // (formatter.width + 2)))
    edge = PRINT_OPTS.edgeitems
    if summarize and data.shape[0] > 2 * edge:
        items = ([formatter.format(v) for v in data[:edge].tolist()] + [" ..."]
                 + [formatter.format(v) for v in data[-edge:].tolist()])
    else:
        items = [formatter.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(data, indent, summarize, formatter):
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _vector(data, indent, summarize, formatter)
    edge = PRINT_OPTS.edgeitems
    if summarize and data.shape[0] > 2 * edge:
        rows = ([_nested(data[i], indent + 1, summarize, formatter) for i in range(edge)]
                + ["..."]
                + [_nested(data[i], indent + 1, summarize, formatter)
                   for i in range(data.shape[0] - edge, data.shape[0])])
    else:
        rows = [_nested(row, indent + 1, summarize, formatter) for row in data]
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def tensor_str(data, indent):
    """The bracketed elements of `data` (a NumPy array of bool, integers, floats or complex), its
    first line starting at column `indent`."""
    if data.size == 0:
        return "[]"
    summarize = data.size > PRINT_OPTS.threshold
    shown = _summarised(data) if summarize else data
    formatter = _ComplexFormatter(shown) if data.dtype.kind == "c" else _Formatter(shown)
    return _nested(data, indent, summarize, formatter)


def with_suffixes(text, suffixes, indent):
    """text + ', suffix' for each, each on a new line (at `indent`) when the last line would
    pass linewidth, then ')'. (torch counts the last line's length two over; so does this.)"""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"
