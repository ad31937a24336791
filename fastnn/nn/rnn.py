"""Recurrent layers with torch.nn's names, arguments, parameter names, initialisation, shapes
and error messages: RNN, LSTM (with proj_size), GRU, and the one-step cells RNNCell,
LSTMCell and GRUCell. Each layer direction runs as one fused op (fastnn/ops/recurrent.py)."""
import math
import numbers
import warnings

import numpy as np

from fastnn.nn import functional as F
from fastnn.nn import init
from fastnn.nn.module import Module, factory_kwargs
from fastnn.nn.parameter import Parameter
from fastnn.ops.recurrent import GATES, recurrent_cell, recurrent_layer
from fastnn.ops.shape import cat, stack


def _check_sizes(hidden_size, num_layers=1):
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")


def _uniform_init(module, hidden_size):
    """torch's RNN initialisation: every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    stdv = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        init.uniform_(weight, -stdv, stdv)


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError("dropout should be a number in range [0, 1] representing the "
                             "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          "non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        _check_sizes(hidden_size, num_layers)
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable "
                             "projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        directions = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        gate_size = GATES[mode] * hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [(f"weight_ih_l{layer}{suffix}", (gate_size, layer_input)),
                          (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden))]
                if bias:
                    shapes += [(f"bias_ih_l{layer}{suffix}", (gate_size,)),
                               (f"bias_hh_l{layer}{suffix}", (gate_size,))]
                if proj_size > 0:
                    shapes.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(np.empty(shape, np.float32)))
                names = [name for name, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()
        factory_kwargs(self, device, dtype)

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self):
        """torch packs cuDNN weights here; on the CPU there is nothing to do."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = self._parameters.get
        return (get(f"weight_ih_l{layer}{suffix}"), get(f"weight_hh_l{layer}{suffix}"),
                get(f"bias_ih_l{layer}{suffix}"), get(f"bias_hh_l{layer}{suffix}"),
                get(f"weight_hr_l{layer}{suffix}"))

    def _name(self):
        return {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)

    def _check_input(self, input):
        if input.ndim not in (2, 3):
            raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D {'tensor ' if self._name() == 'RNN' else ''}"
                             "instead")
        weight = self._flat_weights[0]
        if input.dtype != weight.dtype:
            raise ValueError(f"input must have the type {weight.dtype}, got type {input.dtype}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {input.shape[-1]}")

    def _expected_hidden(self, batch, size):
        return ((self.num_layers * (2 if self.bidirectional else 1), batch, size))

    def _check_hidden(self, hx, expected, message="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(message.format(expected, list(hx.shape)))

    def _run(self, input, hx, cx):
        """The stacked layers over a batched, time-major input with states (D*layers, N, H)."""
        directions = 2 if self.bidirectional else 1
        if input.shape[0] == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        layer_input = input
        h_out, c_out = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_params(layer, direction)
                output, h_n, c_n = recurrent_layer(
                    layer_input, hx[k], None if cx is None else cx[k], w_ih, w_hh, b_ih, b_hh,
                    w_hr, self.mode, direction == 1)
                outputs.append(output)
                h_out.append(h_n)
                c_out.append(c_n)
            layer_input = outputs[0] if directions == 1 else cat(outputs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, stack(h_out), (None if cx is None else stack(c_out))

    def _forward_packed(self, packed, hx, cx, lstm):
        """A PackedSequence: the sequences of each length run as one batch (every sequence is
        independent of the others, so this is exact), and the outputs are packed again in the
        input's order."""
        from fastnn.nn.utils.rnn import pack_in_order, pad_packed_sequence
        from fastnn.ops.pad import pad
        padded, lengths = pad_packed_sequence(packed)
        lengths = lengths._data
        steps, batch = padded.shape[0], padded.shape[1]
        pieces, h_parts, c_parts, members = [], [], [], []
        for length in sorted(set(lengths.tolist()), reverse=True):
            rows = np.nonzero(lengths == length)[0]
            group = padded[:length, rows]
            h = None if hx is None else hx[:, rows]
            c = None if cx is None else cx[:, rows]
            output, h_n, c_n = self._forward(group, h, c, lstm, time_major=True)
            # back to the full number of steps: zeros after the sequence ends, as torch pads
            flat = output.reshape(length, -1).transpose(0, 1)
            flat = pad(flat, (0, steps - length)).transpose(0, 1)
            pieces.append(flat.reshape(steps, len(rows), output.shape[-1]))
            h_parts.append(h_n)
            c_parts.append(c_n)
            members.extend(rows.tolist())
        restore = np.argsort(np.asarray(members))  # group order -> the batch's order
        output = cat(pieces, 1)[:, restore]
        h_n = cat(h_parts, 1)[:, restore]
        c_n = cat(c_parts, 1)[:, restore] if lstm else None
        order = np.arange(batch) if packed.sorted_indices is None else \
            packed.sorted_indices._data
        return (pack_in_order(output, lengths, order, packed.sorted_indices is not None),
                h_n, c_n)

    def _forward(self, input, hx, cx, lstm=False, time_major=False):
        from fastnn.nn.utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, cx, lstm)
        self._check_input(input)
        batched = input.ndim == 3
        batch_first = self.batch_first and not time_major
        if not batched:
            input = input.unsqueeze(1)
        elif batch_first:
            input = input.transpose(0, 1)
        batch = input.shape[1]
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        states = [hx] + ([cx] if lstm else [])
        sizes = [out_size] + ([self.hidden_size] if lstm else [])
        made = []
        for number, (state, size) in enumerate(zip(states, sizes)):
            expected = self._expected_hidden(batch, size)
            if state is None:
                from fastnn.creation import zeros
                state = zeros(*expected, dtype=input.dtype)
            else:
                if not batched:
                    state = state.unsqueeze(1)
                message = (f"Expected hidden[{number}] size {{}}, got {{}}" if lstm
                           else "Expected hidden size {}, got {}")
                self._check_hidden(state, expected, message)
            made.append(state)
        output, h_n, c_n = self._run(input, made[0], made[1] if lstm else None)
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif batch_first:
            output = output.transpose(0, 1)
        return output, h_n, c_n

    def _check_hx_dims(self, input, hx):
        if hx is None or not hasattr(input, "ndim") or input.ndim not in (2, 3):
            return
        if input.ndim == 3 and hx.ndim != 3:
            raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got "
                               f"{hx.ndim}-D tensor")
        if input.ndim == 2 and hx.ndim != 2:
            raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got "
                               f"{hx.ndim}-D tensor")

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _rnn_args(args, kwargs, names):
    """torch's RNN/LSTM/GRU accept their arguments positionally or by name."""
    if len(args) > len(names):
        raise TypeError(f"expected at most {len(names)} positional arguments, got {len(args)}")
    for name, value in zip(names, args):
        if name in kwargs:
            raise TypeError(f"got multiple values for argument '{name}'")
        kwargs[name] = value
    return kwargs


_COMMON = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
           "bidirectional")


class RNN(RNNBase):
    """h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked num_layers
    deep, optionally bidirectional."""

    def __init__(self, *args, **kwargs):
        kwargs = _rnn_args(args, kwargs, ("input_size", "hidden_size", "num_layers",
                                          "nonlinearity", "bias", "batch_first", "dropout",
                                          "bidirectional"))
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' "
                             "or 'relu'.")
        super().__init__(mode, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_hx_dims(input, hx)
        output, h_n, _ = self._forward(input, hx, None)
        return output, h_n


class GRU(RNNBase):
    """Gated recurrent unit, gates [r, z, n] in torch's order and formulas."""

    def __init__(self, *args, **kwargs):
        kwargs = _rnn_args(args, kwargs, _COMMON)
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", **kwargs)

    def forward(self, input, hx=None):
        self._check_hx_dims(input, hx)
        output, h_n, _ = self._forward(input, hx, None)
        return output, h_n


class LSTM(RNNBase):
    """Long short-term memory, gates [i, f, g, o] in torch's order; proj_size > 0 projects h
    with weight_hr (Sak et al. 2014), as torch's."""

    def __init__(self, *args, **kwargs):
        kwargs = _rnn_args(args, kwargs, _COMMON + ("proj_size",))
        super().__init__("LSTM", **kwargs)

    def forward(self, input, hx=None):
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM expects hx to be a tuple (h_0, c_0)")
            h0, c0 = hx
            batched = input.ndim == 3 if hasattr(input, "ndim") else True
            if batched and (h0.ndim != 3 or c0.ndim != 3):
                raise RuntimeError(f"For batched 3-D input, hx and cx should also be 3-D but "
                                   f"got ({h0.ndim}-D, {c0.ndim}-D) tensors")
            if not batched and (h0.ndim != 2 or c0.ndim != 2):
                raise RuntimeError(f"For unbatched 2-D input, hx and cx should also be 2-D but "
                                   f"got ({h0.ndim}-D, {c0.ndim}-D) tensors")
        else:
            h0 = c0 = None
        output, h_n, c_n = self._forward(input, h0, c0, lstm=True)
        return output, (h_n, c_n)


class RNNCellBase(Module):
    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        _check_sizes(hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(np.empty((num_chunks * hidden_size, input_size), np.float32))
        self.weight_hh = Parameter(np.empty((num_chunks * hidden_size, hidden_size),
                                            np.float32))
        if bias:
            self.bias_ih = Parameter(np.empty(num_chunks * hidden_size, np.float32))
            self.bias_hh = Parameter(np.empty(num_chunks * hidden_size, np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        factory_kwargs(self, device, dtype)

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _one_step(self, input, states, mode):
        """One step of the fused layer op: a sequence of length 1."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             "instead")
        for state in states:
            if state is not None and state.ndim not in (1, 2):
                raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {state.ndim}D "
                                 "instead")
        batched = input.ndim == 2
        if not batched:
            input = input.unsqueeze(0)
        if input.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[1]} "
                               f"expected {self.input_size}")
        batch = input.shape[0]
        made = []
        for number, state in enumerate(states):
            if state is None:
                from fastnn.creation import zeros
                state = zeros(batch, self.hidden_size, dtype=input.dtype)
            elif not batched:
                state = state.unsqueeze(0)
            if state.shape[0] != batch:
                raise RuntimeError(f"Input batch size {batch} doesn't match hidden{number} "
                                   f"batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{number} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
            made.append(state)
        h, c = recurrent_cell(input, made[0], made[1] if len(made) > 1 else None,
                              self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, mode)
        if not batched:
            h = h.squeeze(0)
            c = None if c is None else c.squeeze(0)
        return h, c


class RNNCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._one_step(input, [hx], mode)[0]


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        return self._one_step(input, [hx], "GRU")[0]


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        return self._one_step(input, [h0, c0], "LSTM")
