"""A client for the Adam optimizer service.

Three ways to use it:

- :class:`AdamService` and its :class:`Session` objects: the API in Python (create, step, parameters, state,
  resume, history, patch, delete), tensors as NumPy arrays, safetensors on the wire by default.
- :mod:`adamopt.article`: the article's ``initialize_adam`` and ``update_parameters_with_adam``, computed by the
  service.
- :mod:`adamopt.torch`: ``RemoteAdam`` and ``RemoteAdamW``, PyTorch optimizers whose step runs on the service,
  bit for bit as ``torch.optim.Adam``/``AdamW`` (``foreach=False``). Also importable from here; torch is imported
  only then.
"""

__version__ = "0.1.0"

from ._transport import ProblemError  # noqa: E402
from .client import AdamService, Session, StepResult  # noqa: E402

__all__ = ["AdamService", "Session", "StepResult", "ProblemError", "RemoteAdam", "RemoteAdamW", "__version__"]


def __getattr__(name):
    # RemoteAdam needs torch: import it (and torch) only when asked for
    if name in ("RemoteAdam", "RemoteAdamW"):
        from . import torch as _torch

        return getattr(_torch, name)
    raise AttributeError(f"module 'adamopt' has no attribute '{name}'")
