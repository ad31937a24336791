"""nn.EmbeddingBag / F.embedding_bag (the text classification tutorial's layer) and the
arguments nn.Embedding shares with it (max_norm, scale_grad_by_freq, from_pretrained):
values and gradients against torch in every mode, against finite differences, torch's
errors, and the tutorial's model ported by imports."""
import numpy as np
import pytest

import fastnn
import fastnn.nn.functional as F
from conftest import requires_torch
from gradcheck import check_op, raised
from test_porting import compare

try:
    import torch
except ImportError:
    torch = None

CASES = [dict(mode=mode, padding_idx=padding, weighted=weighted, last=last, freq=freq)
         for mode in ("sum", "mean", "max") for padding in (None, 3, -1)
         for weighted in (False, True) for last in (False, True) for freq in (False, True)
         if not (weighted and mode != "sum") and not (freq and mode == "max")]


def _run(module, weight, indices, offsets, psw, case, grad_out_seed=0):
    w = module.tensor(weight, requires_grad=True)
    p = module.tensor(psw, requires_grad=True) if case["weighted"] else None
    out = module.nn.functional.embedding_bag(
        module.tensor(indices), w, None if offsets is None else module.tensor(offsets),
        mode=case["mode"], padding_idx=case["padding_idx"], per_sample_weights=p,
        include_last_offset=case["last"], scale_grad_by_freq=case["freq"])
    g = np.random.default_rng(grad_out_seed).standard_normal(tuple(out.shape))
    (out * module.tensor(g.astype(weight.dtype))).sum().backward()
    return [out.detach().numpy(), w.grad.numpy()] + ([p.grad.numpy()] if p is not None else [])


@requires_torch
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_matches_torch_in_every_mode(case):
    rng = np.random.default_rng(len(str(case)))
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        weight = rng.standard_normal((11, 5)).astype(dtype)
        # repeated indices, the padding row, an empty bag in the middle and one at the end
        indices = np.array([1, 3, 3, 7, 2, 10, 3, 0, 1, 1, 4, 10])
        # with include_last_offset the last offset is the end, len(indices), as documented
        # (torch's kernels disagree with each other on entries past a smaller one)
        offsets = np.array([0, 2, 2, 5, 9, 12])
        psw = rng.standard_normal(indices.shape).astype(dtype)
        ours = _run(fastnn, weight, indices, offsets, psw, case)
        theirs = _run(torch, weight, indices, offsets, psw, case)
        for got, want in zip(ours, theirs):
            np.testing.assert_allclose(got, want, atol=tol, rtol=tol)


@requires_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_two_dimensional_input_is_a_batch_of_equal_bags(mode):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((6, 3)).astype(np.float32)
    indices = rng.integers(0, 6, (4, 3))
    case = dict(mode=mode, padding_idx=None, weighted=False, last=False, freq=False)
    for got, want in zip(_run(fastnn, weight, indices, None, None, case),
                         _run(torch, weight, indices, None, None, case)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_per_sample_weight_and_table_gradients_match_finite_differences():
    rng = np.random.default_rng(2)
    indices = fastnn.tensor([0, 2, 2, 1, 3])
    offsets = fastnn.tensor([0, 3])
    check_op(lambda w, p: F.embedding_bag(indices, w, offsets, mode="sum",
                                          per_sample_weights=p),
             [rng.standard_normal((4, 3)), rng.standard_normal(5)])
    check_op(lambda w: F.embedding_bag(indices, w, offsets, mode="mean"),
             [rng.standard_normal((4, 3))])


def test_empty_input_and_empty_bags_give_zero_rows():
    weight = fastnn.randn(5, 3, requires_grad=True)
    out = F.embedding_bag(fastnn.tensor([], dtype=fastnn.int64), weight,
                          fastnn.tensor([0, 0]), mode="max")
    assert out.shape == (2, 3) and not out.detach().numpy().any()
    out.sum().backward()
    assert weight.grad.shape == (5, 3) and not weight.grad.numpy().any()
    bags = nn_bag = fastnn.nn.EmbeddingBag(5, 3, mode="sum")
    assert bags(fastnn.tensor([1, 2]), fastnn.tensor([0, 0, 2])).shape == (3, 3)
    np.testing.assert_allclose(nn_bag(fastnn.tensor([1, 2]), fastnn.tensor([0, 2]))[1].detach()
                               .numpy(), 0)


def _errors(m):
    w = m.rand(10, 3)
    cases = [
        lambda: m.nn.functional.embedding_bag(m.tensor([[1, 2], [3, 4]]), w, m.tensor([0, 1])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([[0]])),
        lambda: m.nn.functional.embedding_bag(m.zeros(2, 2, 2, dtype=m.int64), w),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]),
                                              per_sample_weights=m.rand(2)),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), mode="sum",
                                              per_sample_weights=m.rand(3)),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), mode="min"),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), mode="max",
                                              scale_grad_by_freq=True),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), mode="max",
                                              sparse=True),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0, 3])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 12]), w, m.tensor([0])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, -1]), w, m.tensor([0])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1.0, 2.0]), w, m.tensor([0])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), m.rand(10), m.tensor([0])),
        lambda: m.nn.functional.embedding_bag(m.tensor([1, 2]), w, m.tensor([0]), mode="sum",
                                              per_sample_weights=m.rand(2).double()),
        lambda: m.nn.EmbeddingBag(10, 3, padding_idx=10),
        lambda: m.nn.EmbeddingBag.from_pretrained(m.rand(3)),
        lambda: m.nn.Embedding(4, 2, _weight=m.rand(3, 2)),
    ]
    return raised(cases)


@requires_torch
def test_errors_are_torchs():
    assert _errors(fastnn) == _errors(torch)


def test_bad_offsets_are_refused_before_any_lookup():
    w = fastnn.rand(10, 3)
    with pytest.raises(RuntimeError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(fastnn.tensor([1, 2]), w, fastnn.tensor([1]))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(fastnn.tensor([1, 2, 3]), w, fastnn.tensor([0, 2, 1]))


@requires_torch
def test_embedding_max_norm_and_frequency_scaling_match_torch():
    rng = np.random.default_rng(3)
    table = (rng.standard_normal((6, 4)) * 2).astype(np.float32)
    indices = np.array([[1, 1, 4], [5, 1, 0]])
    results = []
    for m in (fastnn, torch):
        emb = m.nn.Embedding.from_pretrained(m.tensor(table), freeze=False, max_norm=1.5,
                                             norm_type=3.0, scale_grad_by_freq=True,
                                             padding_idx=0)
        out = emb(m.tensor(indices))
        (out * m.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape))))\
            .sum().backward()
        results.append((out.detach().numpy(), emb.weight.grad.numpy(),
                        emb.weight.detach().numpy(), repr(emb)))
    for got, want in zip(*results):
        if isinstance(got, str):
            assert got == want
        else:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@requires_torch
def test_from_pretrained_and_repr_are_torchs():
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    for kwargs in ({}, dict(freeze=False, mode="max", padding_idx=1, max_norm=2.0),
                   dict(mode="sum", include_last_offset=True, scale_grad_by_freq=True)):
        ours = fastnn.nn.EmbeddingBag.from_pretrained(fastnn.tensor(table), **kwargs)
        theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), **kwargs)
        assert repr(ours) == repr(theirs)
        assert ours.weight.requires_grad == theirs.weight.requires_grad
        got = ours(fastnn.tensor([[1, 0], [2, 3]])).detach().numpy()
        np.testing.assert_allclose(got, theirs(torch.tensor([[1, 0], [2, 3]])).detach().numpy())
    assert repr(fastnn.nn.EmbeddingBag(10, 3)) == repr(torch.nn.EmbeddingBag(10, 3))
    assert repr(fastnn.nn.Embedding(5, 2, max_norm=2.0, sparse=True)) == \
        repr(torch.nn.Embedding(5, 2, max_norm=2.0, sparse=True))


TEXT_CLASSIFIER = """
import torch
from torch import nn
from torch.utils.data import DataLoader


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


def collate_batch(batch):
    labels, texts, lengths = [], [], [0]
    for label, tokens in batch:
        labels.append(label)
        texts.append(torch.tensor(tokens, dtype=torch.int64))
        lengths.append(len(tokens))
    offsets = torch.tensor(lengths[:-1]).cumsum(dim=0)
    return torch.tensor(labels, dtype=torch.int64), torch.cat(texts), offsets


model = TextClassificationModel(VOCAB, 16, 4)
model.load_state_dict({k: torch.from_numpy(v) for k, v in INIT.items()})
criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=4.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
loader = DataLoader(list(zip(LABELS, TOKENS)), batch_size=16, shuffle=False,
                    collate_fn=collate_batch)
losses = []
for epoch in range(2):
    model.train()
    for label, text, offsets in loader:
        optimizer.zero_grad()
        loss = criterion(model(text, offsets), label)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
model.eval()
correct = 0
with torch.no_grad():
    for label, text, offsets in loader:
        correct += (model(text, offsets).argmax(1) == label).sum().item()
result = {"losses": losses, "accuracy": correct / len(LABELS)}
"""


@requires_torch
def test_the_text_classification_tutorial_ports_by_changing_its_imports():
    rng = np.random.default_rng(4)
    vocab, n = 50, 96
    labels = rng.integers(0, 4, n)
    # each class draws most tokens from its own quarter of the vocabulary
    tokens = [list(np.where(rng.random(k) < 0.7, rng.integers(0, 12, k) + 12 * c,
                            rng.integers(0, vocab, k)))
              for c, k in zip(labels, rng.integers(1, 9, n))]
    init = {"embedding.weight": rng.uniform(-0.5, 0.5, (vocab, 16)).astype(np.float32),
            "fc.weight": rng.uniform(-0.5, 0.5, (4, 16)).astype(np.float32),
            "fc.bias": np.zeros(4, np.float32)}
    ours = compare(TEXT_CLASSIFIER, rtol=2e-4, atol=2e-5, VOCAB=vocab, INIT=init,
                   LABELS=list(labels), TOKENS=tokens)
    assert ours["losses"][-1] < ours["losses"][0]
