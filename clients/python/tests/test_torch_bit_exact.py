"""RemoteAdam and RemoteAdamW against torch.optim.Adam and AdamW (foreach=False): the same model trained both ways
from the same start on the same batches has the same parameters, bit for bit, after every step; in float32 and
float64, with amsgrad, maximize, weight decay, param groups, torch's schedulers, parameters without a gradient,
weights changed in place, and state dicts moved between torch and the service in both directions.

Needs torch (Debian's python3-torch: torch 1.13); run with the other tests by PythonClientTest.
"""

import copy
import gc

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import adamopt
from adamopt.torch import RemoteAdam, RemoteAdamW

torch.set_num_threads(1)  # one thread: the forward and backward passes of both models are computed alike

STEPS = 24

CASES = {
    "adam": (torch.optim.Adam, RemoteAdam, {}),
    "adam-l2-amsgrad": (torch.optim.Adam, RemoteAdam, {"weight_decay": 0.05, "amsgrad": True}),
    "adam-maximize-betas-eps": (torch.optim.Adam, RemoteAdam, {"maximize": True, "betas": (0.8, 0.99), "eps": 1e-6}),
    "adamw": (torch.optim.AdamW, RemoteAdamW, {}),
    "adamw-amsgrad": (torch.optim.AdamW, RemoteAdamW, {"weight_decay": 0.1, "amsgrad": True}),
    "adamw-maximize": (torch.optim.AdamW, RemoteAdamW, {"maximize": True}),
}


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def cnn():
    # 1x8x8 -> 4x8x8 -> pool 4x4x4 -> 8x2x2 -> 3
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(32, 3))


def batches(kind, dtype, count, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shape = (16, 6) if kind == "mlp" else (16, 1, 8, 8)
    return [(torch.randn(shape, generator=generator, dtype=dtype), torch.randint(0, 3, (16,), generator=generator))
            for _ in range(count)]


def models(kind, dtype, seed=0):
    torch.manual_seed(seed)
    reference = (mlp() if kind == "mlp" else cnn()).to(dtype)
    return reference, copy.deepcopy(reference)


def assert_same_parameters(reference, remote, when):
    for (name, a), b in zip(reference.named_parameters(), remote.parameters()):
        assert a.dtype == b.dtype
        assert torch.equal(a, b), f"{name} differs {when}: max |diff| {(a - b).abs().max().item()}"


def train_step(model, optimizer, batch, hook=None, step=None):
    x, y = batch
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    if hook is not None:
        hook(step, model)
    optimizer.step()
    return loss


def assert_same_state(torch_state, remote_state):
    """Two state dicts in torch's layout hold the same moments and steps, bit for bit, and the same groups."""
    assert sorted(torch_state["state"]) == sorted(remote_state["state"])
    for index, entry in torch_state["state"].items():
        ours = remote_state["state"][index]
        assert sorted(entry) == sorted(ours)
        for key, value in entry.items():
            assert value.dtype == ours[key].dtype, key
            assert torch.equal(value, ours[key]), f"state[{index}][{key}]"
    for theirs, ours in zip(torch_state["param_groups"], remote_state["param_groups"]):
        assert {k: v for k, v in theirs.items() if k != "foreach"} == {k: v for k, v in ours.items() if k != "foreach"}


@pytest.fixture
def remote(url, key):
    """Makes remote optimizers on the test's service; closes them (deleting their sessions) at the end."""
    made = []

    def make(cls, params, **options):
        optimizer = cls(params, url=url, api_key=key, **options)
        made.append(optimizer)
        return optimizer

    yield make
    for optimizer in made:
        optimizer.close()


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
def test_every_parameter_is_bit_exact_after_every_step(remote, case, dtype, kind):
    torch_class, remote_class, options = CASES[case]
    reference, model = models(kind, dtype)
    ours = remote(remote_class, model.parameters(), lr=0.01, **options)
    theirs = torch_class(reference.parameters(), lr=0.01, foreach=False, **options)
    for step, batch in enumerate(batches(kind, dtype, STEPS)):
        train_step(reference, theirs, batch)
        train_step(model, ours, batch)
        assert_same_parameters(reference, model, f"after step {step + 1}")
    assert ours.session.precision == ("float32" if dtype == torch.float32 else "float64")
    assert ours.session.refresh()["step"] == STEPS
    assert_same_state(theirs.state_dict(), ours.state_dict())


SCHEDULERS = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.5),
    "CosineAnnealingLR": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=STEPS),
    "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.97 ** e]),
    # OneCycleLR moves betas[0] too (cycle_momentum): betas changes reach the session as well
    "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=[0.05, 0.02], total_steps=STEPS),
    "CosineAnnealingWarmRestarts": lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=7),
}


def two_groups(model, weight_decay):
    """Weights with weight decay, biases without and at twice the learning rate: two param groups."""
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    return [{"params": weights, "weight_decay": weight_decay}, {"params": biases, "lr": 0.02, "weight_decay": 0.0}]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("scheduler", SCHEDULERS)
@pytest.mark.parametrize("case", ["adam-l2-amsgrad", "adamw"])
def test_param_groups_and_torch_schedulers_stay_bit_exact(remote, case, scheduler, dtype):
    torch_class, remote_class, options = CASES[case]
    options = {k: v for k, v in options.items() if k != "weight_decay"}
    reference, model = models("mlp", dtype)
    theirs = torch_class(two_groups(reference, 0.05), lr=0.01, foreach=False, **options)
    ours = remote(remote_class, two_groups(model, 0.05), lr=0.01, **options)
    their_schedule, our_schedule = SCHEDULERS[scheduler](theirs), SCHEDULERS[scheduler](ours)
    rates = []
    for step, batch in enumerate(batches("mlp", dtype, STEPS)):
        train_step(reference, theirs, batch)
        their_schedule.step()
        rates.append([group["lr"] for group in ours.param_groups])
        train_step(model, ours, batch)
        our_schedule.step()
        assert_same_parameters(reference, model, f"after step {step + 1}")
    # each step used the learning rates the scheduler had set in param_groups, group 1 in the session's group 0
    assert [entry["learningRate"] for entry in ours.session.history()] == [lr for lr, _ in rates]
    view = ours.session.refresh()["optimizer"]
    assert view["groups"][0]["match"] == ["1.*"]
    assert view["groups"][0]["learningRate"] == rates[-1][1]
    assert len({lr for _, lr in rates}) > 1
    assert_same_state(theirs.state_dict(), ours.state_dict())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", ["adam-l2-amsgrad", "adamw"])
def test_a_run_moves_between_torch_and_the_service_in_both_directions_bit_for_bit(remote, case, dtype):
    torch_class, remote_class, options = CASES[case]
    data = batches("mlp", dtype, STEPS)
    reference, a = models("mlp", dtype)
    b = copy.deepcopy(reference)
    schedule = lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.7)  # noqa: E731
    uninterrupted = torch_class(reference.parameters(), lr=0.01, foreach=False, **options)
    on_torch = torch_class(a.parameters(), lr=0.01, foreach=False, **options)  # a: torch, then the service
    on_service = remote(remote_class, b.parameters(), lr=0.01, **options)  # b: the service, then torch
    schedules = [schedule(o) for o in (uninterrupted, on_torch, on_service)]
    for step in range(STEPS):
        if step == 10:
            to_service = remote(remote_class, a.parameters(), lr=0.5, **options)
            to_service.load_state_dict(on_torch.state_dict())
            to_torch = torch_class(b.parameters(), lr=0.5, foreach=False, **options)
            to_torch.load_state_dict(on_service.state_dict())
            assert_same_state(on_torch.state_dict(), to_service.state_dict())  # also before its first step
            on_service.close()
            moved = [schedule(to_service), schedule(to_torch)]
            for new, old in zip(moved, schedules[1:]):
                new.load_state_dict(old.state_dict())
            on_torch, on_service, schedules = to_service, to_torch, [schedules[0], *moved]
        for model, optimizer, scheduler in zip((reference, a, b), (uninterrupted, on_torch, on_service), schedules):
            train_step(model, optimizer, data[step])
            scheduler.step()
        assert_same_parameters(reference, a, f"after step {step + 1}, torch then the service")
        assert_same_parameters(reference, b, f"after step {step + 1}, the service then torch")
    assert on_torch.param_groups[0]["lr"] == uninterrupted.param_groups[0]["lr"]
    assert_same_state(uninterrupted.state_dict(), on_torch.state_dict())


@pytest.mark.parametrize("hold_parameters", [True, False], ids=["held", "client-sent"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_parameters_without_a_gradient_and_weights_changed_in_place_stay_bit_exact(remote, dtype, hold_parameters):
    reference, model = models("mlp", dtype)
    theirs = torch.optim.Adam(reference.parameters(), lr=0.01, foreach=False)
    ours = remote(RemoteAdam, model.parameters(), lr=0.01, hold_parameters=hold_parameters)

    def hook(step, net):
        if step % 3 == 1:
            net[4].weight.grad = None  # not stepped, its step count not advanced
        if step == 7:
            with torch.no_grad():
                net[0].weight.mul_(0.5)  # in place, as torch.nn.init does
        if step == 12:
            net[2].bias.data.fill_(0.125)  # through .data, invisible to autograd's version counter
        if step == 15:
            net.load_state_dict({k: v * 0.9 for k, v in net.state_dict().items()})

    for step, batch in enumerate(batches("mlp", dtype, STEPS)):
        train_step(reference, theirs, batch, hook, step)
        train_step(model, ours, batch, hook, step)
        assert_same_parameters(reference, model, f"after step {step + 1}")
    assert_same_state(theirs.state_dict(), ours.state_dict())
    steps = {tensor["name"]: tensor["step"] for tensor in ours.session.refresh()["tensors"]}
    # the tensor of parameter k of group 0 is "0.k": net[4].weight is parameter 4, which missed every third step
    assert steps["0.4"] == STEPS - STEPS // 3 and steps["0.0"] == steps["0.5"] == STEPS


def test_a_param_group_added_mid_run_carries_the_state_over(remote):
    reference, model = models("mlp", torch.float64)
    split = lambda net: (list(net[0].parameters()) + list(net[2].parameters()), list(net[4].parameters()))  # noqa
    first, last = split(reference)
    theirs = torch.optim.AdamW(first, lr=0.01, foreach=False)
    first_ours, last_ours = split(model)
    ours = remote(RemoteAdamW, first_ours, lr=0.01)
    for step, batch in enumerate(batches("mlp", torch.float64, STEPS)):
        if step == 8:
            theirs.add_param_group({"params": last, "lr": 0.03})
            ours.add_param_group({"params": last_ours, "lr": 0.03})
        if step < 8:  # the last layer is not in the optimizer yet: frozen
            for p in last + last_ours:
                p.requires_grad_(False)
        else:
            for p in last + last_ours:
                p.requires_grad_(True)
        train_step(reference, theirs, batch)
        train_step(model, ours, batch)
        assert_same_parameters(reference, model, f"after step {step + 1}")
    assert_same_state(theirs.state_dict(), ours.state_dict())


def test_step_takes_a_closure_returns_its_loss_and_records_it_in_the_history(remote):
    reference, model = models("mlp", torch.float32)
    ours = remote(RemoteAdam, model.parameters(), lr=0.01)
    x, y = batches("mlp", torch.float32, 1)[0]

    def closure():
        ours.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss

    losses = [ours.step(closure) for _ in range(3)]
    assert all(isinstance(loss, torch.Tensor) for loss in losses)
    assert [entry["loss"] for entry in ours.session.history()] == [float(loss) for loss in losses]
    assert losses[2] < losses[0]


def test_non_finite_gradients_raise_by_default_and_are_skipped_when_asked(remote):
    _, model = models("mlp", torch.float64)
    before = copy.deepcopy(model)
    strict = remote(RemoteAdam, model.parameters(), lr=0.01)
    x, y = batches("mlp", torch.float64, 1)[0]

    def nan_step(optimizer):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        model[0].weight.grad[0, 0] = float("nan")
        optimizer.step()

    with pytest.raises(adamopt.ProblemError) as raised:
        nan_step(strict)
    assert raised.value.type == "/problems/non-finite-gradient"
    assert_same_parameters(before, model, "after a refused step")
    strict.close()
    skipping = remote(RemoteAdam, model.parameters(), lr=0.01, non_finite="skip")
    nan_step(skipping)
    assert_same_parameters(before, model, "after a skipped step")
    assert skipping.session.refresh()["skippedSteps"] == 1


def test_what_the_service_cannot_do_is_refused_with_a_reason(remote):
    half = nn.Linear(2, 2).half()
    half.weight.grad, half.bias.grad = torch.zeros_like(half.weight), torch.zeros_like(half.bias)
    with pytest.raises(ValueError, match="float32 or float64"):
        remote(RemoteAdam, half.parameters()).step()
    net = mlp()
    with pytest.raises(ValueError, match="same amsgrad and maximize"):
        groups = [{"params": net[0].parameters()}, {"params": net[2].parameters(), "amsgrad": True}]
        optimizer = remote(RemoteAdam, groups)
        for p in net.parameters():
            p.grad = torch.zeros_like(p)
        optimizer.step()
    with pytest.raises(ValueError, match="computes on the service"):
        RemoteAdam(net.parameters(), capturable=True)
    with pytest.raises(ValueError, match="Invalid learning rate"):  # torch's own validation and message
        RemoteAdam(net.parameters(), lr=-1)


def test_the_session_is_deleted_by_close_and_when_the_optimizer_is_collected(url, key, service):
    model = mlp()
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    closed = RemoteAdam(model.parameters(), url=url, api_key=key)
    closed.step()
    first = closed.session.id
    closed.close()
    collected = RemoteAdam(model.parameters(), url=url, api_key=key)
    collected.step()
    second = collected.session.id
    del collected
    gc.collect()
    for session_id in (first, second):
        with pytest.raises(adamopt.ProblemError) as raised:
            service.session(session_id)
        assert raised.value.status == 404
