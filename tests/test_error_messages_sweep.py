"""Common mistakes get torch's exception type and message (a sweep of 57 of them against torch
found these differing): an optimizer given a non-leaf tensor, integer division by zero,
float class indices, a 1-D product of mismatched lengths, negative layer sizes, unflatten,
split and reflect-padding sizes, GroupNorm's divisibility and batch norm's one value."""
import pytest

import fastnn
import fastnn.nn.functional as F

torch = pytest.importorskip("torch")

CASES = {
    "non_leaf_param": lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True) * 2], lr=0.1),
    "floor_div_zero": lambda lib: lib.tensor([1]) // lib.tensor([0]),
    "remainder_zero": lambda lib: lib.tensor([1]) % lib.tensor([0]),
    "trunc_div_zero": lambda lib: lib.div(lib.tensor([3]), 0, rounding_mode="trunc"),
    "remainder_number_zero": lambda lib: lib.remainder(5, lib.tensor([0])),
    "nll_float_target": lambda lib: lib.nn.functional.nll_loss(lib.zeros(2, 3),
                                                               lib.tensor([0.0, 1.0])),
    "nll_int32_target": lambda lib: lib.nn.functional.nll_loss(
        lib.zeros(2, 3), lib.tensor([0, 1], dtype=lib.int32)),
    "dot_lengths": lambda lib: lib.zeros(3) @ lib.zeros(4),
    "linear_negative": lambda lib: lib.nn.Linear(-1, 2),
    "unflatten": lambda lib: lib.zeros(2, 6).unflatten(1, (4, 2)),
    "split_negative": lambda lib: lib.zeros(4).split(-1),
    "reflect_pad_size": lambda lib: lib.nn.functional.pad(lib.zeros(1, 1, 2, 2), (3, 3),
                                                          mode="reflect"),
    "group_norm": lambda lib: lib.nn.GroupNorm(3, 4),
    "batch_norm_one_value": lambda lib: lib.nn.BatchNorm1d(3)(lib.zeros(1, 3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_error_matches_torch(name):
    with pytest.raises(Exception) as theirs:
        CASES[name](torch)
    with pytest.raises(Exception) as ours:
        CASES[name](fastnn)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    assert str(ours.value) == str(theirs.value)


def test_valid_neighbours_still_work():
    assert (fastnn.tensor([7]) // fastnn.tensor([2])).tolist() == [3]
    assert (fastnn.tensor([7.0]) % 0).isnan().all()
    assert F.nll_loss(fastnn.zeros(2, 3), fastnn.tensor([0, 1], dtype=fastnn.uint8)).item() == 0
    assert fastnn.zeros(2, 6).unflatten(1, (-1, 2)).shape == (2, 3, 2)
    assert fastnn.zeros(2, 6).unflatten(1, (3, 2)).shape == (2, 3, 2)
    assert (fastnn.ones(3) @ fastnn.ones(3)).item() == 3
