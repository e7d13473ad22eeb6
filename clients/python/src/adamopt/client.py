"""Sessions on the Adam optimizer service, with NumPy arrays."""

import json
import math
import os
import re

import numpy as np

from ._transport import JSON, OCTET, Transport, node_urls
from .safetensors import pack, unpack

__all__ = ["AdamService", "Session", "StepResult", "DEFAULT_URL"]

DEFAULT_URL = "http://localhost:8080"

#: the session's precision -> the dtype of the arrays it answers when no dtype was sent
PRECISIONS = {"float64": np.dtype("float64"), "float32": np.dtype("float32")}

#: the parts of a tensor's state in a checkpoint, as the API names them
CHECKPOINT_PARTS = ("firstMoment", "secondMoment", "maxSecondMoment", "parameter")

CHECKPOINT_FORMAT = "adam-optimizer-checkpoint/1"

TRANSPORTS = ("safetensors", "json")


def camel(value):
    """Python-style keys to the API's camelCase, in nested dicts and lists (``t_max`` -> ``tMax``); values, and keys
    already in camelCase, stay as they are."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), str(key)): camel(item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel(item) for item in value]
    return value


def _metadata_number(text):
    # Java writes doubles as Python's float() reads them ("1.0E-8", "NaN", "Infinity")
    return float(text) if text is not None else None


def _loss_text(loss):
    loss = float(loss)
    if math.isfinite(loss):
        return repr(loss)
    return "NaN" if math.isnan(loss) else ("Infinity" if loss > 0 else "-Infinity")


class StepResult(dict):
    """The parameters after a step, ``{name: array}``, with the step's statistics as attributes:

    ``step`` (the session's step count after it), ``learning_rate``, ``grad_norm``, ``total_norm`` (with clipping
    by norm), ``update_norm``, ``clipped``, ``skipped`` and ``replayed`` (the answer of an earlier attempt of this
    step, sent again: the step was applied once).
    """

    def __init__(self, parameters, step, learning_rate=None, grad_norm=None, total_norm=None, update_norm=None,
                 clipped=False, skipped=False, replayed=False):
        super().__init__(parameters)
        self.step = step
        self.learning_rate = learning_rate
        self.grad_norm = grad_norm
        self.total_norm = total_norm
        self.update_norm = update_norm
        self.clipped = clipped
        self.skipped = skipped
        self.replayed = replayed

    def __repr__(self):
        return (f"StepResult(step={self.step}, learning_rate={self.learning_rate}, grad_norm={self.grad_norm}, "
                f"update_norm={self.update_norm}, clipped={self.clipped}, skipped={self.skipped}, "
                f"parameters={sorted(self)})")


class AdamService:
    """A connection to the service at ``url`` (``$ADAM_URL``, else http://localhost:8080), with an API key
    (``$ADAM_KEY`` when not given) sent as ``Authorization: Bearer``.

    ``url`` may name several nodes of one cluster (``adam.store=hazelcast``, where every node serves every
    session): a list (``["http://a:8080", "http://b:8080"]``) or one string with commas, ``$ADAM_URL`` too. Requests
    go to one node; when it cannot be reached (or the connection breaks, or its answer times out) the request goes
    on to the next node, with the same ``Idempotency-Key``, and so do the requests after it. ``urls`` lists the
    nodes, ``url`` is the one in use.

    ``transport``: ``"safetensors"`` (binary tensors, the fast path) or ``"json"``. Requests that fail on the way
    (a connection error, a timeout, ``429``, ``503``) are sent again up to ``retries`` times, after
    ``backoff * 2**attempt`` seconds (at most ``max_backoff``, jittered; at least the answer's ``Retry-After``; no
    wait before a node not yet tried); steps and creates carry an ``Idempotency-Key`` so that a retry is never
    applied twice. ``timeout`` is requests' (seconds, or a ``(connect, read)`` pair). ``http`` is the
    ``requests.Session`` to use (proxies, certificates).
    """

    def __init__(self, url=None, api_key=None, *, transport="safetensors", timeout=60.0, retries=5, backoff=0.1,
                 max_backoff=10.0, http=None):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {TRANSPORTS}, not {transport!r}")
        urls = node_urls(url or os.environ.get("ADAM_URL") or DEFAULT_URL)
        if api_key is None:
            api_key = os.environ.get("ADAM_KEY")
        self.urls = tuple(urls)
        self.transport = transport
        self._http = Transport(urls, api_key, timeout=timeout, retries=retries, backoff=backoff,
                               max_backoff=max_backoff, http=http)

    @property
    def url(self):
        """The URL of the node requests go to (as given): the only one, or the one that answered last."""
        return self.urls[self._http.node]

    def __repr__(self):
        where = self.urls[0] if len(self.urls) == 1 else list(self.urls)
        return f"AdamService({where!r}, transport={self.transport!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Closes the connections (the sessions stay on the service)."""
        self._http.http.close()

    def create(self, parameters=None, *, precision=None, algorithm=None, learning_rate=None, beta1=None, beta2=None,
               epsilon=None, weight_decay=None, amsgrad=None, maximize=None, schedule=None, clipping=None,
               groups=None, non_finite=None):
        """A new session. With ``parameters`` (``{name: array}``) the session holds them and each step sends only
        gradients; without, each step sends the parameters with the gradients.

        The optimizer's settings are the API's, in Python style (``learning_rate`` for ``learningRate``, also
        inside ``schedule``, ``clipping`` and ``groups``: ``{"type": "cosine", "t_max": 100}``); those left out are
        torch's defaults. ``precision`` is ``"float64"`` or ``"float32"``; by default float32 when every parameter
        is float32, else float64.
        """
        optimizer = camel({key: value for key, value in dict(
            algorithm=algorithm, learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon,
            weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, schedule=schedule, clipping=clipping,
            groups=groups, non_finite=non_finite).items() if value is not None})
        return self._create(optimizer, parameters, precision)

    def _create(self, optimizer, parameters=None, precision=None):
        """create() with the API's optimizer settings as they are."""
        if parameters is not None:
            parameters = {name: np.asarray(value) for name, value in parameters.items()}
            if precision is None and parameters:
                single = all(value.dtype == np.float32 for value in parameters.values())
                precision = "float32" if single else "float64"
        request = {"optimizer": optimizer}
        if precision is not None:
            request["precision"] = precision
        binary = self.transport == "safetensors" and parameters
        if parameters is not None and not binary:
            request["parameters"] = {name: value.tolist() for name, value in parameters.items()}
        answer = self._http.request("POST", "v1/sessions", body=json.dumps(request).encode(), content_type=JSON,
                                    keyed=True, expect=(201,))
        session = Session(self, answer.json())
        session.etag = answer.headers.get("ETag")
        if binary:
            # the tensors in safetensors after the settings in JSON: no JSON numbers, and no copy at all of
            # contiguous arrays
            try:
                session.put_parameters(parameters)
            except BaseException:
                session._delete_quietly()
                raise
            session.refresh()
        return session

    def resume(self, state):
        """A new session that continues a checkpoint (:meth:`Session.state`, or the bytes of a safetensors
        checkpoint file) bit for bit."""
        if isinstance(state, (bytes, bytearray, memoryview)):
            body, content_type = state, OCTET
        elif self.transport == "safetensors":
            body, content_type = checkpoint_file(state), OCTET
        else:
            body, content_type = json.dumps({"state": checkpoint_json(state)}).encode(), JSON
        answer = self._http.request("POST", "v1/sessions", body=body, content_type=content_type, keyed=True,
                                    expect=(201,))
        session = Session(self, answer.json())
        session.etag = answer.headers.get("ETag")
        return session

    def session(self, session_id):
        """The session with this id (``ProblemError`` 404 when there is none)."""
        answer = self._http.request("GET", f"v1/sessions/{session_id}")
        session = Session(self, answer.json())
        session.etag = answer.headers.get("ETag")
        return session

    def sessions(self, page_size=None):
        """The caller's live sessions, oldest first, as :class:`Session` objects, fetched a page at a time."""
        token = None
        while True:
            params = {key: value for key, value in (("pageSize", page_size), ("pageToken", token)) if value}
            page = self._http.request("GET", "v1/sessions", params=params).json()
            for view in page["sessions"]:
                yield Session(self, view)
            token = page.get("nextPageToken")
            if not token:
                return


class Session:
    """An optimizer session on the service: its ``id``, ``step_count``, ``precision``, ``holds_parameters``,
    ``tensors`` (``{name: shape}``, once fixed), ``optimizer`` (the settings in force, as the API writes them),
    ``etag`` and ``view`` (the last session view read). Deleted at the end of a ``with`` block."""

    def __init__(self, service, view):
        self.service = service
        self.id = view["id"]
        self.etag = None
        self._path = f"v1/sessions/{self.id}"
        self._update(view)

    def _update(self, view):
        self.view = view
        self.step_count = view["step"]
        self.precision = view["precision"]
        self.holds_parameters = view["holdsParameters"]
        self.optimizer = view["optimizer"]
        self.tensors = {tensor["name"]: tuple(tensor["shape"]) for tensor in view.get("tensors", ())}

    @property
    def url(self):
        """The session's URL on the node in use (on a cluster, every node's URL of it names the same session)."""
        return self.service._http.absolute(self._path)

    def __repr__(self):
        return f"Session({self.id!r}, step_count={self.step_count}, precision={self.precision!r})"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.delete()

    @property
    def _binary(self):
        return self.service.transport == "safetensors"

    def _request(self, method, suffix="", **kwargs):
        return self.service._http.request(method, self._path + suffix, **kwargs)

    def refresh(self):
        """Reads the session view again; returns it."""
        answer = self._request("GET")
        self._update(answer.json())
        self.etag = answer.headers.get("ETag")
        return self.view

    def step(self, gradients, parameters=None, loss=None):
        """One Adam step: ``gradients`` by name (``W1``) or as the article names them (``dW1``), the
        ``parameters`` too unless the session holds them, and optionally the ``loss`` (recorded in the history).

        Returns a :class:`StepResult`: every parameter after the step (float32 where float32 was sent, else in
        the session's precision), with the step's statistics. Sent with an Idempotency-Key: retried, it is
        applied once.
        """
        if self._binary:
            tensors = dict(parameters) if parameters is not None else {}
            for name, gradient in gradients.items():
                tensors[name + ".grad"] = gradient
            metadata = {"loss": _loss_text(loss)} if loss is not None else None
            answer = self._request("POST", "/steps", body=pack(tensors, metadata), content_type=OCTET,
                                   accept=OCTET, keyed=True)
            arrays, meta = unpack(answer.body)
            result = StepResult(arrays, int(meta["step"]), _metadata_number(meta.get("learningRate")),
                                _metadata_number(meta.get("gradNorm")), _metadata_number(meta.get("totalNorm")),
                                _metadata_number(meta.get("updateNorm")), meta.get("clipped") == "true",
                                meta.get("skipped") == "true", answer.replayed)
        else:
            request = {"gradients": {name: np.asarray(g).tolist() for name, g in gradients.items()}}
            if parameters is not None:
                request["parameters"] = {name: np.asarray(p).tolist() for name, p in parameters.items()}
            if loss is not None:
                request["loss"] = float(loss)
            answer = self._request("POST", "/steps", body=json.dumps(request).encode(), content_type=JSON,
                                   keyed=True)
            document = answer.json()
            default = PRECISIONS[self.precision]
            dtypes = {name: (np.float32 if np.asarray(p).dtype == np.float32 else default)
                      for name, p in (parameters or {}).items()}
            arrays = {name: np.array(value, dtype=dtypes.get(name, default))
                      for name, value in document["parameters"].items()}
            result = StepResult(arrays, document["step"], document.get("learningRate"), document.get("gradNorm"),
                                document.get("totalNorm"), document.get("updateNorm"), document.get("clipped", False),
                                document.get("skipped", False), answer.replayed)
        self.step_count = result.step
        self.etag = answer.headers.get("ETag")
        return result

    def parameters(self):
        """The parameters the session holds, ``{name: array}`` (``ProblemError`` 409 when it does not)."""
        if self._binary:
            return unpack(self._request("GET", "/parameters", accept=OCTET).body)[0]
        dtype = PRECISIONS[self.precision]
        document = self._request("GET", "/parameters").json()
        return {name: np.array(value, dtype=dtype) for name, value in document.items()}

    def put_parameters(self, parameters):
        """Makes the session hold these parameters (``{name: array}``, every tensor); the moments are kept."""
        if self._binary:
            body, content_type = pack(parameters), OCTET
        else:
            body = json.dumps({name: np.asarray(p).tolist() for name, p in parameters.items()}).encode()
            content_type = JSON
        answer = self._request("PUT", "/parameters", body=body, content_type=content_type, expect=(204,))
        self.holds_parameters = True
        self.etag = answer.headers.get("ETag")

    def state(self):
        """A checkpoint: the API's checkpoint document (``optimizer``, ``precision``, ``step``, ``skippedSteps``,
        ``holdsParameters``, ``tensors``: ``{name: {step, firstMoment, secondMoment[, maxSecondMoment]
        [, parameter]}}``), the tensors as NumPy arrays in the session's precision. The article's ``v`` and ``s``
        are ``firstMoment`` and ``secondMoment``. :meth:`AdamService.resume` continues it."""
        if self._binary:
            return checkpoint_from_file(self._request("GET", "/state", accept=OCTET).body)
        return checkpoint_from_json(self._request("GET", "/state").json())

    def history(self, since=None):
        """The latest steps, oldest first, as the API writes them (``step``, ``time``, ``learningRate``,
        ``gradNorm``, ``updateNorm``, ``loss``, ``clipped``, ``skipped``, ``durationMicros``); only those after
        step ``since`` when given."""
        params = {"since": since} if since is not None else None
        return self._request("GET", "/history", params=params).json()["steps"]

    def patch(self, **changes):
        """Changes the optimizer between steps, as torch changes a running one: ``learning_rate=0.005``,
        ``schedule={"type": "step", "step_size": 10}``, ``clipping={"max_norm": 1.0}``, ``groups=[...]``...
        Returns the session view."""
        body = json.dumps({"optimizer": camel(changes)}).encode()
        answer = self._request("PATCH", body=body, content_type=JSON)
        self._update(answer.json())
        self.etag = answer.headers.get("ETag")
        return self.view

    def delete(self):
        """Ends the session and frees its state on the service."""
        self._request("DELETE", expect=(204,), gone_ok=True)

    def _delete_quietly(self):
        """Deletes the session with one attempt, ignoring any failure: for cleaning up."""
        try:
            self._request("DELETE", expect=(204,), gone_ok=True, retries=0)
        except Exception:  # noqa: BLE001 - cleaning up after another error, which is the one to report
            pass


# --- checkpoints: the API's document, with NumPy arrays for tensors -------------------------------------------------

def checkpoint_from_json(document):
    dtype = PRECISIONS[document.get("precision", "float64")]
    for tensor in document["tensors"].values():
        for part in CHECKPOINT_PARTS:
            if part in tensor:
                tensor[part] = np.array(tensor[part], dtype=dtype)
    return document


def checkpoint_from_file(buffer):
    arrays, metadata = unpack(buffer)
    steps = json.loads(metadata["tensorSteps"])
    tensors = {name: {"step": step} for name, step in steps.items()}
    for key, array in arrays.items():
        name, _, part = key.rpartition(".")
        tensors[name][part] = array
    return {"optimizer": json.loads(metadata["optimizer"]), "precision": metadata.get("precision", "float64"),
            "step": int(metadata["step"]), "skippedSteps": int(metadata.get("skippedSteps", 0)),
            "holdsParameters": metadata["holdsParameters"] == "true", "tensors": tensors}


def checkpoint_json(state):
    document = {key: value for key, value in state.items() if key != "tensors"}
    document["tensors"] = {
        name: {key: (np.asarray(value).tolist() if key in CHECKPOINT_PARTS else value) for key, value in t.items()}
        for name, t in state["tensors"].items()}
    return document


def checkpoint_file(state):
    """A checkpoint document -> the safetensors checkpoint file that ``POST /v1/sessions`` resumes."""
    precision = state.get("precision", "float64")
    dtype = PRECISIONS[precision]
    tensors, steps = {}, {}
    for name, tensor in state["tensors"].items():
        steps[name] = int(tensor["step"])
        for part in CHECKPOINT_PARTS:
            if tensor.get(part) is not None:
                tensors[f"{name}.{part}"] = np.asarray(tensor[part], dtype=dtype)
    metadata = {"format": CHECKPOINT_FORMAT, "optimizer": json.dumps(state["optimizer"]), "precision": precision,
                "step": str(int(state["step"])), "holdsParameters": "true" if state["holdsParameters"] else "false",
                "tensorSteps": json.dumps(steps)}
    if state.get("skippedSteps"):
        metadata["skippedSteps"] = str(int(state["skippedSteps"]))
    return pack(tensors, metadata)
