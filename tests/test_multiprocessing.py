"""torch.multiprocessing: tensors moved to shared memory are shared with the processes they are
sent to (the Hogwild recipe), others are copied; spawn() re-raises a child's failure; pickled
Parameters stay Parameters."""
import pickle

import pytest

import fastnn
import fastnn.multiprocessing as mp
import fastnn.nn.functional as F


def _bump(rank, tensor):
    tensor[rank] += rank + 1  # each child its own element: no lost updates between them


def _train(rank, model, steps):
    fastnn.manual_seed(rank)
    optimizer = fastnn.optim.SGD(model.parameters(), lr=0.01)
    for _ in range(steps):
        x = fastnn.randn(8, 4)
        loss = F.mse_loss(model(x), x.sum(1, keepdim=True))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _fail(rank):
    raise ValueError("boom")


def test_shared_tensors_are_updated_by_spawned_processes():
    shared = fastnn.zeros(3).share_memory_()
    private = fastnn.zeros(3)
    assert shared.is_shared() and not private.is_shared()
    mp.spawn(_bump, args=(shared,), nprocs=2)
    assert shared.tolist() == [1.0, 2.0, 0.0]  # both children wrote into the same block
    mp.spawn(_bump, args=(private,), nprocs=1)
    assert private.tolist() == [0.0, 0.0, 0.0]  # a copy went to the child


def test_hogwild_processes_train_one_model():
    fastnn.manual_seed(0)
    model = fastnn.nn.Linear(4, 1).share_memory()
    before = model.weight.detach().clone()
    context = mp.get_context("spawn")
    processes = [context.Process(target=_train, args=(rank, model, 10)) for rank in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    assert [p.exitcode for p in processes] == [0, 0]
    assert not fastnn.equal(before, model.weight.detach())
    assert isinstance(model.weight, fastnn.nn.Parameter)


def test_spawn_reraises_a_childs_error():
    with pytest.raises(mp.ProcessRaisedException, match="ValueError: boom"):
        mp.spawn(_fail, nprocs=1)


def test_pickled_parameters_stay_parameters():
    layer = pickle.loads(pickle.dumps(fastnn.nn.Linear(2, 2)))
    assert isinstance(layer.weight, fastnn.nn.Parameter)
    assert all(isinstance(p, fastnn.nn.Parameter) for p in layer.parameters())
