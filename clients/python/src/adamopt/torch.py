"""PyTorch optimizers whose Adam step runs on the service: :class:`RemoteAdam` and :class:`RemoteAdamW`.

They are ``torch.optim.Optimizer`` subclasses that take the arguments of ``torch.optim.Adam`` and ``AdamW`` and give
their results bit for bit (those of the single-tensor path, ``foreach=False``, which the service reproduces in
float32 and float64). What changes is where the moments live: in a session on the service, not in the process.

- ``step()`` sends the ``.grad`` of every parameter that has one and copies the answers into the parameters in place
  (no autograd); a parameter without a gradient is left as torch leaves it (not stepped, its step count not
  advanced).
- ``param_groups`` map to the session's groups: the tensor of parameter ``k`` of group ``i`` is named ``"i.k"``
  (``k`` counts across groups, as the indices of ``state_dict()`` do), group 0 is the session's default group and
  group ``i > 0`` the session's group ``i - 1``, matching ``"i.*"``. A change of ``lr``, ``betas``, ``eps``,
  ``weight_decay`` or ``maximize`` in ``param_groups`` reaches the session (``PATCH``) before the next step, so torch's
  learning-rate schedulers work unchanged. ``amsgrad`` cannot change (torch's cannot either, in effect).
- ``state_dict()`` and ``load_state_dict()`` use torch's own Adam layout (``state[k] = {"step", "exp_avg",
  "exp_avg_sq"[, "max_exp_avg_sq"]}``, ``param_groups`` with torch's keys): ``torch.optim.Adam`` loads the state of a
  ``RemoteAdam`` and the other way round, and a run continues bit for bit in either.
- By default the session holds the parameters (``hold_parameters=True``), so that a step sends only gradients; the
  model stays the source of truth all the same: before each step every parameter is compared, bit for bit, with what
  the session gave back, and any change made in between (an in-place edit, ``load_state_dict`` on the model, a
  re-initialisation) is sent first. The comparison reads the parameters once and keeps the last answer (the size of
  the parameters, where ``torch.optim.Adam`` keeps twice that in moments). ``hold_parameters=False`` sends the
  parameters with every step instead.

The session is deleted when the optimizer is garbage-collected or at exit (``close()`` does it at once); its state
outlives it only as ``state_dict()``. A step is sent with an Idempotency-Key and retried (see
:class:`~adamopt.AdamService`); one that still fails after its retries with a connection error may or may not have
been applied on the service, which ``optimizer.session.refresh()["step"]`` tells.
"""

import copy
import inspect
import weakref
from itertools import chain

import numpy as np
import torch

from .client import AdamService

__all__ = ["RemoteAdam", "RemoteAdamW"]

_PRECISIONS = {torch.float32: "float32", torch.float64: "float64"}

#: torch's options that choose how torch computes on a device; the service computes, so they must stay off
_DEVICE_OPTIONS = ("capturable", "differentiable", "fused")


def _numpy(tensor):
    """A tensor's values as a NumPy array: a view for a CPU tensor, a copy from any other device."""
    return tensor.detach().cpu().numpy()


def _bits(tensor):
    """The tensor reinterpreted as integers of its width, for a bitwise comparison (-0.0 differs from 0.0)."""
    return tensor.detach().view(torch.int64 if tensor.element_size() == 8 else torch.int32)


class _Holder:
    """The session of an optimizer, reachable from its finalizer without keeping the optimizer alive."""

    __slots__ = ("session",)

    def __init__(self):
        self.session = None

    def close(self):
        session, self.session = self.session, None
        if session is not None:
            session._delete_quietly()


class _RemoteOptimizer(torch.optim.Optimizer):
    _torch_class = None
    _algorithm = None

    def __init__(self, params, lr, betas, eps, weight_decay, amsgrad, maximize, foreach, capturable, differentiable,
                 fused, url, api_key, service, hold_parameters, non_finite):
        # torch's own optimizer validates the arguments (with its messages) and gives the defaults with exactly the
        # keys this torch version's state_dict() has, so that torch loads ours and we load torch's
        options = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                   "maximize": maximize, "foreach": foreach, "capturable": capturable,
                   "differentiable": differentiable, "fused": fused}
        for name in _DEVICE_OPTIONS:
            if options[name]:
                raise ValueError(f"{type(self).__name__} computes on the service: {name}=True does not apply")
        accepted = inspect.signature(self._torch_class.__init__).parameters
        options = {name: value for name, value in options.items()
                   if name in accepted and not (name in _DEVICE_OPTIONS and value is None)}
        defaults = dict(self._torch_class([torch.zeros(1, requires_grad=True)], **options).defaults)

        self._service = service if service is not None else AdamService(url, api_key)
        self._hold_parameters = hold_parameters
        self._non_finite = non_finite
        self._holder = _Holder()
        self._finalizer = weakref.finalize(self, self._holder.close)
        self._layout = None  # [(name, param)] of the session's tensors
        self._sent = None  # per group, the hyperparameters the session has
        self._sent_flags = None  # amsgrad and maximize, as the session has them
        self._snapshot = None  # name -> the parameter's values as the session holds them
        self._pending = {}  # param -> torch-layout state to start the next session from
        super().__init__(params, defaults)

    # --- the session ---------------------------------------------------------------------------------------------

    @property
    def session(self):
        """The :class:`~adamopt.Session` behind this optimizer (``None`` before the first step)."""
        return self._holder.session

    def close(self):
        """Deletes the session on the service now (a later step starts a new one, without the moments)."""
        self._holder.close()
        self._layout = None

    def _current_layout(self):
        layout, index = [], 0
        for i, group in enumerate(self.param_groups):
            for param in group["params"]:
                layout.append((f"{i}.{index}", param))
                index += 1
        return layout

    @staticmethod
    def _hyperparameters(group):
        beta1, beta2 = group["betas"]
        return {"learningRate": float(group["lr"]), "beta1": float(beta1), "beta2": float(beta2),
                "epsilon": float(group["eps"]), "weightDecay": float(group["weight_decay"])}

    def _flags(self):
        """amsgrad and maximize, which the session has for all groups: they must agree."""
        flags = {(bool(group["amsgrad"]), bool(group["maximize"])) for group in self.param_groups}
        if len(flags) > 1:
            raise ValueError(f"{type(self).__name__}: every param group must have the same amsgrad and maximize "
                             "(the service keeps one of each per session)")
        return flags.pop()

    def _optimizer_settings(self):
        amsgrad, maximize = self._flags()
        groups = [dict(match=[f"{i}.*"], **self._hyperparameters(group))
                  for i, group in enumerate(self.param_groups) if i > 0]
        settings = {"algorithm": self._algorithm, **self._hyperparameters(self.param_groups[0]),
                    "amsgrad": amsgrad, "maximize": maximize, "nonFinite": self._non_finite}
        if groups:
            settings["groups"] = groups
        return settings

    def _open(self):
        """The session for the current param_groups: the one there is, or a new one (from the state kept since the
        last one, or loaded), when there is none or the groups' parameters changed."""
        layout = self._current_layout()
        if self.session is not None and self._layout is not None and len(layout) == len(self._layout) and all(
                a[0] == b[0] and a[1] is b[1] for a, b in zip(layout, self._layout)):
            return
        if self.session is not None:  # parameters were added or moved between groups: carry the state over
            self._pending = self._state_by_param()
            self._holder.close()
        dtypes = {param.dtype for _, param in layout}
        if len(dtypes) != 1 or next(iter(dtypes)) not in _PRECISIONS:
            raise ValueError(f"{type(self).__name__} steps float32 or float64 parameters, all of one dtype; these are "
                             f"{sorted(str(d) for d in dtypes)}")
        dtype = dtypes.pop()
        settings = self._optimizer_settings()
        if self._pending:
            session = self._service.resume(self._checkpoint(layout, settings, dtype))
        else:
            parameters = {name: _numpy(param) for name, param in layout} if self._hold_parameters else None
            session = self._service._create(settings, parameters, _PRECISIONS[dtype])
        self._holder.session = session
        self._pending = {}
        self._layout = layout
        self._sent = [self._hyperparameters(group) for group in self.param_groups]
        self._sent_flags = self._flags()
        if self._hold_parameters:
            self._snapshot = {name: param.detach().cpu().clone() for name, param in layout}

    def _checkpoint(self, layout, settings, dtype):
        """The checkpoint document of a session in the state ``self._pending`` holds (torch's layout, by param)."""
        precision = _PRECISIONS[dtype]
        amsgrad = settings["amsgrad"]
        tensors = {}
        for name, param in layout:
            state = self._pending.get(param)
            if state:
                tensor = {"step": int(state["step"]), "firstMoment": _numpy(state["exp_avg"]),
                          "secondMoment": _numpy(state["exp_avg_sq"])}
                if amsgrad:
                    if "max_exp_avg_sq" not in state:
                        raise ValueError(f"the state of parameter {name.split('.')[1]} has no max_exp_avg_sq: "
                                         "it comes from an optimizer without amsgrad, this one has amsgrad=True")
                    tensor["maxSecondMoment"] = _numpy(state["max_exp_avg_sq"])
            else:  # no state yet: never stepped, as torch's lazily created state
                zeros = np.zeros(tuple(param.shape), dtype=np.float32 if dtype == torch.float32 else np.float64)
                tensor = {"step": 0, "firstMoment": zeros, "secondMoment": zeros}
                if amsgrad:
                    tensor["maxSecondMoment"] = zeros
            if self._hold_parameters:
                tensor["parameter"] = _numpy(param)
            tensors[name] = tensor
        return {"optimizer": settings, "precision": precision,
                "step": max((t["step"] for t in tensors.values()), default=0), "skippedSteps": 0,
                "holdsParameters": self._hold_parameters, "tensors": tensors}

    def _sync(self):
        """Sends what changed in param_groups since the session last heard: lr, betas, eps, weight_decay, maximize."""
        amsgrad, maximize = self._flags()
        if amsgrad != self._sent_flags[0]:
            raise ValueError(f"amsgrad cannot change in a running {type(self).__name__} (it was {not amsgrad})")
        current = [self._hyperparameters(group) for group in self.param_groups]
        changes = {k: v for k, v in current[0].items() if v != self._sent[0][k]}
        if maximize != self._sent_flags[1]:
            changes["maximize"] = maximize
        groups = [{k: v for k, v in now.items() if v != sent[k]} for now, sent in zip(current[1:], self._sent[1:])]
        if any(groups):
            changes["groups"] = groups
        if changes:
            self.session.patch(**changes)
            self._sent = current
            self._sent_flags = (amsgrad, maximize)

    # --- torch.optim.Optimizer -----------------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure=None):
        """One Adam step on the service, for every parameter with a gradient. Returns the closure's loss, which is
        also recorded in the session's history."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        layout = self._current_layout()
        stepped = [(name, param) for name, param in layout if param.grad is not None]
        if not stepped:
            return loss
        for _, param in stepped:
            if param.grad.is_sparse:
                raise RuntimeError("Adam does not support sparse gradients, please consider SparseAdam instead")
        self._open()
        self._sync()
        parameters = None
        if self._hold_parameters:
            self._send_changed_parameters()
        else:
            parameters = {name: _numpy(param) for name, param in self._layout}
        gradients = {name: _numpy(param.grad) for name, param in stepped}
        recorded = float(loss) if isinstance(loss, (torch.Tensor, float, int)) and torch.numel(
            torch.as_tensor(loss)) == 1 else None
        result = self.session.step(gradients, parameters=parameters, loss=recorded)
        for name, param in stepped:
            param.copy_(torch.from_numpy(result[name]))
        if self._hold_parameters:
            # the answer is what the session holds now; kept (not copied) to compare with before the next step
            self._snapshot = {name: torch.from_numpy(result[name]) for name, _ in self._layout}
        return loss

    def _send_changed_parameters(self):
        for name, param in self._layout:
            if not torch.equal(_bits(param.detach().cpu()), _bits(self._snapshot[name])):
                # changed since the session gave it back: the model is the source of truth
                self.session.put_parameters({n: _numpy(p) for n, p in self._layout})
                self._snapshot = {n: p.detach().cpu().clone() for n, p in self._layout}
                return

    def _state_by_param(self):
        """The state in torch's layout, by parameter: from the session, or what is waiting for the next one."""
        if self.session is None:
            return dict(self._pending)
        checkpoint = self.session.state()
        amsgrad = checkpoint["optimizer"].get("amsgrad", False)
        state = {}
        for name, param in self._layout:
            tensor = checkpoint["tensors"][name]
            if tensor["step"] == 0:
                continue  # torch has no state for a parameter that was never stepped
            entry = {"step": torch.tensor(float(tensor["step"])),
                     "exp_avg": torch.from_numpy(tensor["firstMoment"]).to(param.device),
                     "exp_avg_sq": torch.from_numpy(tensor["secondMoment"]).to(param.device)}
            if amsgrad:
                entry["max_exp_avg_sq"] = torch.from_numpy(tensor["maxSecondMoment"]).to(param.device)
            state[param] = entry
        return state

    def state_dict(self):
        """torch's Adam state dict: ``{"state": {index: {"step", "exp_avg", "exp_avg_sq"[, "max_exp_avg_sq"]}},
        "param_groups": [{...torch's keys..., "params": [indices]}]}``, read from the session."""
        indices, groups, start = {}, [], 0
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            indices.update({id(param): start + k for k, param in enumerate(group["params"])})
            packed["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(packed)
        state = {indices[id(param)]: entry for param, entry in self._state_by_param().items() if id(param) in indices}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Loads torch's Adam state dict (of a ``torch.optim.Adam``/``AdamW`` or of a remote one): the next step
        starts a session from it."""
        state_dict = copy.deepcopy(state_dict)
        groups, saved_groups = self.param_groups, state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        by_index = dict(zip(chain.from_iterable(s["params"] for s in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))
        pending = {}
        for index, value in state_dict["state"].items():
            param = by_index.get(index)
            if param is None:
                continue
            step = value["step"]
            # as torch keeps it: the step count as a 0-d tensor, the moments in the parameter's dtype
            entry = {"step": torch.tensor(float(step.item() if isinstance(step, torch.Tensor) else step))}
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                if key in value:
                    entry[key] = value[key].detach().to(device="cpu", dtype=param.dtype)
            pending[param] = entry
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            for key, value in self.defaults.items():
                saved.setdefault(key, value)  # keys of another torch version or of AdamW
            new_groups.append(saved)
        self.param_groups = new_groups
        self._holder.close()
        self._layout = None
        self._pending = pending


class RemoteAdam(_RemoteOptimizer):
    """``torch.optim.Adam`` whose step runs on the service (see :mod:`adamopt.torch`): the same arguments, the same
    results bit for bit; plus ``url``/``api_key`` (or ``service``, an :class:`~adamopt.AdamService`),
    ``hold_parameters`` and ``non_finite`` (``"error"``: a NaN or infinite gradient raises
    :class:`~adamopt.ProblemError` and changes nothing; ``"skip"``: the step is skipped)."""

    _torch_class = torch.optim.Adam
    _algorithm = "adam"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None, url=None,
                 api_key=None, service=None, hold_parameters=True, non_finite="error"):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, foreach, capturable,
                         differentiable, fused, url, api_key, service, hold_parameters, non_finite)


class RemoteAdamW(_RemoteOptimizer):
    """``torch.optim.AdamW`` whose step runs on the service (see :class:`RemoteAdam`)."""

    _torch_class = torch.optim.AdamW
    _algorithm = "adamw"

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None, url=None,
                 api_key=None, service=None, hold_parameters=True, non_finite="error"):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize, foreach, capturable,
                         differentiable, fused, url, api_key, service, hold_parameters, non_finite)
