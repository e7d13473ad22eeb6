"""The article's two functions, with the optimizer on the service.

A script written from the article ("How to Implement Adam Gradient Descent from Scratch using Python") imports them
instead of defining them, and runs unchanged::

    from adamopt.article import initialize_adam, update_parameters_with_adam

    v, s = initialize_adam(parameters)
    for t in range(1, num_iterations + 1):
        ...  # forward and backward passes: grads = {"dW1": ..., "db1": ..., ...}
        parameters, v, s = update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01)

How the article's variables map to the service:

- ``v`` and ``s`` are views of one session on the service, which keeps the moments: ``v["dW1"]`` and ``s["dW1"]``
  read them (the session's checkpoint, once per step), as the article's dictionaries of the same names; they are
  not sent with each step. ``v.session`` is the :class:`~adamopt.Session`.
- ``t`` is checked, not sent: the service counts the steps and computes the bias corrections ``1 - beta**t`` from
  its own count, so ``t`` must be 1 at the first update and grow by one with each (``ValueError`` otherwise, rather
  than a silently different update).
- ``parameters`` are sent with each step (the script keeps them, as in the article), and the dictionary is updated
  in place with the new arrays and returned, as the article's function does. ``grads`` holds ``"d" + name`` for
  each parameter (``dW1``, ``db1``); other entries (``dA1``, ``dZ1``) are ignored, as the article ignores them.
- ``learning_rate``, ``beta1``, ``beta2`` and ``epsilon`` are the session's: a call with other values changes them
  before its step (a decaying learning rate works as in the article).

The update is torch's (``torch.optim.Adam``, bit for bit); the article's NumPy code computes the same update in
another order, so the two agree to rounding. The session is deleted when ``v`` and ``s`` are garbage-collected, or
at exit.
"""

import weakref
from collections.abc import Mapping

import numpy as np

from .client import AdamService

__all__ = ["initialize_adam", "update_parameters_with_adam", "Moments"]


class _Run:
    """The state behind one pair ``v, s``: the session, the names, and the checkpoint of the current step."""

    def __init__(self, service, parameters):
        arrays = {name: np.asarray(value) for name, value in parameters.items()}
        self.names = list(arrays)
        self.shapes = {name: array.shape for name, array in arrays.items()}
        self.dtype = np.float32 if all(a.dtype == np.float32 for a in arrays.values()) else np.float64
        self.hyperparameters = {"learning_rate": 0.01, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
        # the parameters stay with the script (sent with each step); the session keeps v, s and t
        self.session = service.create(precision="float32" if self.dtype == np.float32 else "float64",
                                      **self.hyperparameters)
        self.t = 0
        self._checkpoint = None
        self._finalizer = weakref.finalize(self, self.session._delete_quietly)

    def moments(self, part):
        if self.t == 0:
            return {"d" + name: np.zeros(shape, dtype=self.dtype) for name, shape in self.shapes.items()}
        if self._checkpoint is None or self._checkpoint[0] != self.t:
            self._checkpoint = (self.t, self.session.state())
        tensors = self._checkpoint[1]["tensors"]
        return {"d" + name: tensors[name][part] for name in self.names}


class Moments(Mapping):
    """The article's ``v`` (first moments) or ``s`` (second moments), ``{"dW1": array, ...}``, read from the
    session (a copy of the current step's values: changing them changes nothing on the service)."""

    def __init__(self, run, part, symbol):
        self._run = run
        self._part = part
        self._symbol = symbol

    @property
    def session(self):
        """The :class:`~adamopt.Session` that keeps the moments."""
        return self._run.session

    @property
    def t(self):
        """The number of updates so far (the article's ``t`` after the last update)."""
        return self._run.t

    def __getitem__(self, key):
        return self._run.moments(self._part)[key]

    def __iter__(self):
        return iter(["d" + name for name in self._run.names])

    def __len__(self):
        return len(self._run.names)

    def __repr__(self):
        return f"<{self._symbol}: {self._part} of session {self._run.session.id} at t={self._run.t}>"


def initialize_adam(parameters, *, service=None, url=None, api_key=None):
    """The article's ``initialize_adam``: returns ``v, s`` for ``parameters`` (``{"W1": array, "b1": array,
    ...}``), here views of a new session on the service (``service``, or one at ``url``/``$ADAM_URL`` with
    ``api_key``/``$ADAM_KEY``), zero until the first update."""
    if service is None:
        service = AdamService(url, api_key)
    run = _Run(service, parameters)
    return Moments(run, "firstMoment", "v"), Moments(run, "secondMoment", "s")


def update_parameters_with_adam(parameters, grads, v, s, t, learning_rate=0.01, beta1=0.9, beta2=0.999,
                                epsilon=1e-8):
    """The article's ``update_parameters_with_adam``: one Adam step of ``parameters`` with ``grads`` (``dW1``,
    ``db1``, ...) at time ``t``, on the service. Returns ``parameters, v, s`` as the article does: the same
    dictionary with the updated arrays, and the same ``v`` and ``s`` (which now read the moments after this step).
    """
    if not isinstance(v, Moments) or not isinstance(s, Moments) or v._run is not s._run:
        raise TypeError("v and s must be the pair that adamopt.article.initialize_adam returned: the service keeps "
                        "the moments, so NumPy dictionaries cannot stand in for them")
    run = v._run
    if t != run.t + 1:
        raise ValueError(f"t is {t}, but this is update {run.t + 1} of this v and s: the service computes the bias "
                         "corrections from its own step count, so t must be 1 at the first update and grow by one "
                         "with each")
    unknown = [name for name in parameters if name not in run.shapes]
    if unknown:
        raise KeyError(f"parameters {unknown} were not given to initialize_adam (it had {run.names})")
    missing = [f"d{name}" for name in run.names if f"d{name}" not in grads]
    if missing:
        raise KeyError(f"grads lacks {missing}: each parameter needs its gradient under 'd' + its name")
    wanted = {"learning_rate": learning_rate, "beta1": beta1, "beta2": beta2, "epsilon": epsilon}
    changed = {key: float(value) for key, value in wanted.items() if value != run.hyperparameters[key]}
    if changed:
        run.session.patch(**changed)
        run.hyperparameters.update(changed)
    result = run.session.step({f"d{name}": grads[f"d{name}"] for name in run.names},
                              parameters={name: parameters[name] for name in run.names})
    run.t = result.step
    for name in run.names:
        parameters[name] = result[name]
    return parameters, v, s
