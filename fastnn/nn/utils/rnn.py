"""torch.nn.utils.rnn: pad_sequence, and PackedSequence with pack_padded_sequence,
pad_packed_sequence, pack_sequence and unpack_sequence. The packed data is ordered as torch's
(time-major, sequences sorted by decreasing length within each step), and packing and
unpacking are differentiable (indexing and padding ops)."""
from collections import namedtuple

import numpy as np

from fastnn.tensor import Tensor


def _lengths(lengths):
    values = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    return np.asarray(values, dtype=np.int64).reshape(-1)


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes,
                          self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self):
        return False


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padded."""
    from fastnn.ops.pad import pad
    from fastnn.ops.shape import stack
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    sequences = list(sequences)
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        # pad the first dimension: F.pad's last pair applies to it once it is moved last
        moved = s.reshape(s.shape[0], -1).transpose(0, 1)
        sides = (0, missing) if padding_side == "right" else (missing, 0)
        moved = pad(moved, sides, value=padding_value)
        padded.append(moved.transpose(0, 1).reshape(longest, *s.shape[1:]))
    return stack(padded, 0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    lengths = _lengths(lengths)
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        sorted_indices = None
        order = np.arange(len(lengths))
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor._wrap(order.astype(np.int64))
    if (lengths <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    if lengths.max() > input.shape[0]:
        raise RuntimeError(f"Expected lengths to be at most the sequence length "
                           f"{input.shape[0]}, got {int(lengths.max())}")
    return pack_in_order(input, lengths, order, sorted_indices is not None)


def pack_in_order(input, lengths, order, sorted_given):
    """Packs a time-major (T, B, *) input whose sequences, longest first, are `order`."""
    sorted_lengths = lengths[order]
    steps = int(sorted_lengths[0])
    batch_sizes = np.array([(sorted_lengths > t).sum() for t in range(steps)], np.int64)
    time_index = np.concatenate([np.full(n, t) for t, n in enumerate(batch_sizes)])
    batch_index = np.concatenate([order[:n] for n in batch_sizes])
    data = input[time_index, batch_index]
    if not sorted_given:
        return PackedSequence(data, Tensor._wrap(batch_sizes), None, None)
    return PackedSequence(data, Tensor._wrap(batch_sizes),
                          Tensor._wrap(np.asarray(order, np.int64)),
                          Tensor._wrap(np.argsort(order).astype(np.int64)))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    from fastnn.ops.shape import cat
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps_out = total_length
    else:
        steps_out = steps
    sorted_lengths = np.array([(batch_sizes > b).sum() for b in range(batch)], np.int64)
    # row r of the padded (T, B) grid in time-major order is data row `where`, or padding
    filler = Tensor._wrap(np.full((1,) + tuple(data.shape[1:]), padding_value,
                            dtype=data._data.dtype))
    extended = cat([data, filler], 0)
    where = np.full((steps_out, batch), data.shape[0], np.int64)
    offset = 0
    for t, n in enumerate(batch_sizes):
        where[t, :n] = np.arange(offset, offset + n)
        offset += n
    order = np.arange(batch) if sequence.unsorted_indices is None else \
        sequence.unsorted_indices._data
    padded = extended[where[:, order].reshape(-1)].reshape(steps_out, batch,
                                                           *data.shape[1:])
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = sorted_lengths if sequence.unsorted_indices is None else sorted_lengths[order]
    return padded, Tensor._wrap(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return [padded[i, :int(n)] for i, n in enumerate(lengths._data)]


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of the padded batch's sequences, each cut to its length."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _lengths(lengths))]


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    from fastnn.creation import empty_like, arange
    output = empty_like(permutation)
    output[permutation] = arange(permutation.numel(), dtype=permutation.dtype)
    return output
