"""HTTP for the client: one connection reused, retries that never apply a step twice (on the same node or on
another node of a cluster), answers read in one go."""

import email.utils
import http.client
import json
import random
import time
import uuid
from urllib.parse import urljoin

import numpy as np
import requests

from . import __version__

JSON = "application/json"
OCTET = "application/octet-stream"
PROBLEM = "application/problem+json"

#: statuses after which a request is sent again, to the same node: the service did not act on it (429, 503), or the
#: cluster could not carry it out (503 /problems/cluster-unavailable: a step or a create may have been applied, and
#: its retry under the same Idempotency-Key is answered, not applied again)
RETRY_STATUSES = (429, 503)


def node_urls(urls):
    """The nodes' base URLs from one URL, several separated by commas, or a list of them; at least one."""
    if isinstance(urls, str):
        urls = urls.split(",")
    nodes = [url.strip() for url in urls if url and url.strip()]
    if not nodes:
        raise ValueError(f"no service URL in {urls!r}")
    return nodes


class ProblemError(Exception):
    """The service refused a request: an RFC 9457 problem (``application/problem+json``).

    ``status`` is the HTTP status, ``type`` the problem's stable type (``/problems/tensor-mismatch``), ``title``
    its fixed title, ``detail`` what to fix; ``problem`` is the whole document. An answer that is not a problem (a
    proxy's error page) is one too, with ``type`` ``"about:blank"`` and its status's reason as the title.
    """

    def __init__(self, status, type, title, detail=None, instance=None, problem=None):
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.problem = problem if problem is not None else {}
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")

    __module__ = "adamopt"  # where users import it from

    def __reduce__(self):
        return (type(self), (self.status, self.type, self.title, self.detail, self.instance, self.problem))

    @classmethod
    def of(cls, status, reason, content_type, body):
        if content_type.startswith((PROBLEM, JSON)):
            try:
                problem = json.loads(bytes(body))
            except ValueError:
                problem = None
            if isinstance(problem, dict) and "title" in problem:
                return cls(problem.get("status", status), problem.get("type", "about:blank"), problem["title"],
                           problem.get("detail"), problem.get("instance"), problem)
        text = bytes(body[:200]).decode("utf-8", "replace").strip()
        return cls(status, "about:blank", reason or f"HTTP {status}", text or None)


class Answer:
    """An answer read to its end: status, headers and the body (a writable NumPy byte array, read in one go)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.tobytes()) if self.body.size else None

    @property
    def replayed(self):
        return self.headers.get("Idempotent-Replayed", "").lower() == "true"


def _read_body(response):
    """The whole body into one uninitialised buffer, with as few reads as the socket allows, no copy.

    requests' ``.content`` reads 10 KB pieces and joins them, ``raw.read()`` allocates the bytes and copies once
    more; here the body goes from the socket straight into the NumPy buffer that the arrays will be views of
    (http.client's ``readinto``), and urllib3 gets the connection back for the next request.
    """
    raw = response.raw
    length = response.headers.get("Content-Length")
    fp = getattr(raw, "_fp", None)  # the http.client response under urllib3 1.26 and 2.x
    if length is not None and not response.headers.get("Content-Encoding") and hasattr(fp, "readinto"):
        body = np.empty(int(length), dtype=np.uint8)
        view, got = memoryview(body), 0
        try:
            while got < body.size:
                n = fp.readinto(view[got:])
                if not n:
                    break
                got += n
        except (OSError, http.client.HTTPException) as error:
            response.close()  # the connection is in an unknown state: not for another request
            raise requests.ConnectionError(f"the answer broke off after {got} of its {body.size} bytes: "
                                           f"{error!r}") from error
        if got < body.size:
            response.close()
            raise requests.ConnectionError(f"the answer ended after {got} of its {body.size} bytes")
        raw.read()  # b"": http.client closed its end of the response, so urllib3 releases the connection
        return body
    # chunked or compressed: one read all the same (urllib3 undoes the chunking and the encoding), into a writable
    # buffer
    return np.frombuffer(bytearray(raw.read(decode_content=True)), dtype=np.uint8)


def retry_after(headers, now=None):
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Transport:
    """Requests to one service, on one node or on any of a cluster's nodes: their base URLs, the API key, timeouts
    and the retry policy.

    ``urls`` is one URL, several separated by commas, or a list: nodes of one cluster, each of which serves every
    session. Requests go to one node at a time; a request that cannot get its answer from a node (it cannot
    connect, the connection breaks, the answer times out) is sent again to the next node, with the same
    Idempotency-Key, and the node that answers serves the next requests too.
    """

    def __init__(self, urls, api_key=None, timeout=60.0, retries=5, backoff=0.1, max_backoff=10.0, http=None,
                 sleep=time.sleep):
        self.urls = [url.rstrip("/") + "/" for url in node_urls(urls)]
        self.node = 0  # the node requests go to, the one that last answered
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.http = http if http is not None else requests.Session()
        self.headers = {"User-Agent": f"adamopt-client/{__version__} requests/{requests.__version__}"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        # the proxies, certificates and verification requests takes from the environment, read once for each node
        # (requests reads them again for every request: a fifth of its own cost per request)
        self.node_settings = []
        for url in self.urls:
            settings = self.http.merge_environment_settings(url, {}, True, None, None)
            settings.pop("stream", None)
            self.node_settings.append(settings)

    @property
    def url(self):
        """The base URL of the node requests go to."""
        return self.urls[self.node]

    def absolute(self, path, node=None):
        return urljoin(self.urls[self.node if node is None else node], path)

    def delay(self, attempt, answer_headers=None):
        """Exponential backoff with jitter, at least what the answer's Retry-After asks for."""
        delay = min(self.max_backoff, self.backoff * 2 ** attempt) * random.uniform(0.5, 1.0)
        asked = retry_after(answer_headers) if answer_headers is not None else None
        return max(delay, asked) if asked is not None else delay

    def request(self, method, path, *, body=None, content_type=None, accept=JSON, keyed=False, expect=(200,),
                params=None, gone_ok=False, retries=None):
        """One call, retried on connection errors, timeouts, 429 and 503 with backoff (honouring Retry-After).

        ``keyed`` sends an Idempotency-Key, made once for the call and the same on every attempt, on every node, so
        that a retry of a request the service did carry out (its answer was lost) is answered again, not carried
        out again. A connection error or a timeout moves on to the next node (at once while there is one this call
        has not tried; back to a node it has tried after the backoff), 429 and 503 wait and ask the same node
        again. ``gone_ok``: a 404 after a retry means an earlier attempt did it (a DELETE). ``retries`` overrides
        the transport's. Returns an :class:`Answer`; a status outside ``expect`` raises :class:`ProblemError`.
        """
        headers = dict(self.headers, Accept=f"{accept}, {PROBLEM}")
        if content_type is not None:
            headers["Content-Type"] = content_type
        if keyed:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        retries = self.retries if retries is None else retries
        attempt = 0
        tried = {self.node}
        while True:
            node = self.node
            try:
                prepared = self.http.prepare_request(requests.Request(method, self.absolute(path, node), data=body,
                                                                      headers=headers, params=params))
                response = self.http.send(prepared, stream=True, timeout=self.timeout, allow_redirects=False,
                                          **self.node_settings[node])
                status = response.status_code
                if status in RETRY_STATUSES and attempt < retries:
                    wait = self.delay(attempt, response.headers)
                    response.content  # read it, so that the connection serves the next attempt
                    self.sleep(wait)
                    attempt += 1
                    continue
                answer = Answer(status, response.headers, _read_body(response))
            except (requests.ConnectionError, requests.Timeout):
                if attempt >= retries:
                    raise
                # the node is gone, or the request's fate on it is unknown: the next node, with the same key (a
                # step the node had applied is answered by the next one from the session's backup, not applied
                # again)
                self.node = (node + 1) % len(self.urls)
                if self.node in tried:
                    self.sleep(self.delay(attempt))
                tried.add(self.node)
                attempt += 1
                continue
            if status in expect or (gone_ok and attempt > 0 and status == 404):
                return answer
            raise ProblemError.of(status, response.reason, response.headers.get("Content-Type", ""), answer.body)
