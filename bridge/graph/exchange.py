"""Every Graph request goes through :meth:`Exchange.run`, the one place for the wire's rules:

- ``$batch`` chunking: at most 20 requests and 4 MB per envelope (Graph's limits), at most 4 of one
  mailbox, a mailbox's requests kept in their order (deletions before creations); a chunk of one
  request is sent as itself, not in an envelope (one round trip instead of the envelope's and its
  item's: :class:`bridge.graph._http.HttpTransport`), and its answer is typed as an item's would be;
- the per-mailbox limit: at most 4 requests in flight per mailbox across the process's threads;
- ``Retry-After`` is never slept out here: an item answered 429 comes back at once as
  :class:`errors.Throttled` (its ``scope`` and ``mailbox`` say what Graph paused), and the run's later
  requests to what was paused (that mailbox; the tenant or the app: every request) are answered with
  the same error without being sent. The caller puts those users back in the queue, due at the
  Retry-After, and remembers the pause (bridge.sync.pauses), so one mailbox never holds up others;
- retries of reads after a 5xx, timeout or reset (backoff with equal jitter); a write whose answer was
  lost is not sent again here: its outcome is unknown and the caller resolves it;
- typing of every answer (:func:`bridge.graph.wire.error_for`), as the tenant's
  :class:`bridge.codes.AccessGrant` gives it meaning.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bridge import metrics
from bridge.codes import AccessGrant
from bridge.graph import errors
from bridge.graph.backoff import backoff
from bridge.graph.wire import ENVELOPE_BYTES, MAX_REQUEST_BYTES, Request, Transport, error_for, item_bytes

BATCH_LIMIT = 20  # Graph's limit of requests in one $batch
PER_MAILBOX = 4  # Graph's concurrency limit per mailbox (facts.md)
READ_RETRIES = 2

Answer = Any  # the decoded body of a 2xx answer, or the typed error of any other


def chunks(batch: Sequence[Request], max_bytes: int = MAX_REQUEST_BYTES) -> list[list[int]]:
    """Indexes of ``batch`` in envelopes: ≤ 20 each, ≤ ``max_bytes`` each as sent (a request larger
    than that alone goes alone: its answer, 413, is its own), ≤ 4 per mailbox, a mailbox's order kept."""
    out: list[list[int]] = []
    counts: list[Counter[str]] = []
    sizes: list[int] = []
    last: dict[str, int] = {}
    for n, request in enumerate(batch):
        box = request.mailbox or ""
        first = last.get(box, 0)
        size = item_bytes(request)
        at = next((c for c in range(first, len(out)) if len(out[c]) < BATCH_LIMIT
                   and sizes[c] + size <= max_bytes
                   and (not request.mailbox or counts[c][box] < PER_MAILBOX)), len(out))
        if at == len(out):
            out.append([])
            counts.append(Counter())
            sizes.append(ENVELOPE_BYTES)
        out[at].append(n)
        counts[at][box] += 1
        sizes[at] += size
        last[box] = at
    return out


class MailboxSlots:
    """At most :data:`PER_MAILBOX` requests in flight per (tenant, mailbox), whatever the thread.

    An envelope takes all the slots it needs at once, so two threads never hold part of what the
    other waits for.
    """

    def __init__(self) -> None:
        self._busy: Counter[tuple[str, str]] = Counter()
        self._changed = threading.Condition()

    @contextmanager
    def held(self, tenant_id: str, mailboxes: Counter[str]) -> Iterator[None]:
        need = {(tenant_id, m): n for m, n in mailboxes.items() if m}
        with self._changed:
            self._changed.wait_for(lambda: all(self._busy[k] + n <= PER_MAILBOX for k, n in need.items()))
            self._busy.update(need)
        try:
            yield
        finally:
            with self._changed:
                self._busy.subtract(need)
                for key in need:
                    if self._busy[key] <= 0:
                        del self._busy[key]
                self._changed.notify_all()


class Exchange:
    """Runs requests for a tenant over a :class:`bridge.graph.wire.Transport` (see the module)."""

    def __init__(self, transport: Transport, sleep: Callable[[float], None] = time.sleep) -> None:
        self._transport = transport
        self._sleep = sleep
        self._slots = MailboxSlots()

    def run(self, tenant_id: str, batch: Sequence[Request],
            grant: AccessGrant = AccessGrant.ORGANISATION) -> list[Answer]:
        """Each request's answer, in order: its JSON body, or its typed error.

        ``grant`` is how the tenant grants calendar access: with an Exchange scope, a mailbox Graph
        refuses is that user's (:data:`Reason.OUTSIDE_EXCHANGE_SCOPE`), not the tenant's.
        Raises :class:`errors.AuthFailed` (the tenant as a whole refuses us) instead of answering.
        """
        answers: list[Answer] = [None] * len(batch)
        pending = list(range(len(batch)))
        read_retries = 0
        paused: dict[str, errors.Throttled] = {}  # what Graph paused during this run: a mailbox, or "*"
        while pending:
            lost: list[int] = []
            wait = 0.0
            for chunk in chunks([batch[n] for n in pending]):
                indexes = []
                for n in (pending[c] for c in chunk):
                    hold = _paused(batch[n], paused)
                    if hold is None:
                        indexes.append(n)
                    else:  # not sent: Graph paused what it is for a moment ago
                        answers[n] = hold
                if not indexes:
                    continue
                sent = [batch[n] for n in indexes]
                for n, answer in zip(indexes, self._send(tenant_id, sent, grant), strict=True):
                    if isinstance(answer, errors.AuthFailed):
                        raise answer
                    answers[n] = answer
                    if not batch[n].reads:
                        failed = answer if isinstance(answer, errors.GraphError) else None
                        metrics.graph_write(batch[n].method, errors.outcome_of(failed))
                    if isinstance(answer, errors.Throttled):
                        metrics.throttled()
                        metrics.waited(answer.retry_after)
                        held = "*" if answer.scope != errors.MAILBOX else (answer.mailbox or "").lower()
                        if held:
                            paused.setdefault(held, answer)
                    elif isinstance(answer, errors.Transient) and batch[n].reads:
                        lost.append(n)
                        wait = max(wait, answer.retry_after or 0.0)
            pending = []
            if lost and read_retries < READ_RETRIES:
                pending = sorted(lost)
                pause = max(wait, backoff(read_retries, base=0.5, cap=30.0))
                read_retries += 1
                self._sleep(pause)
        return answers

    def one(self, tenant_id: str, request: Request, grant: AccessGrant = AccessGrant.ORGANISATION) -> Any:
        """A single request's body; its typed error raised."""
        answer = self.run(tenant_id, [request], grant)[0]
        if isinstance(answer, errors.GraphError):
            raise answer
        return answer

    def _send(self, tenant_id: str, batch: list[Request], grant: AccessGrant) -> list[Answer]:
        with self._slots.held(tenant_id, Counter(r.mailbox or "" for r in batch)):
            try:
                replies = self._transport.send(tenant_id, batch)
            except errors.Transient as exc:  # the envelope was lost: every write in it is in doubt
                return [exc for _ in batch]
        scoped = grant is AccessGrant.EXCHANGE_SCOPE
        return [error_for(reply, scoped=scoped and request.mailbox is not None, mailbox=request.mailbox) or reply.body
                for request, reply in zip(batch, replies, strict=True)]

    def close(self) -> None:
        self._transport.close()


def _paused(request: Request, paused: dict[str, errors.Throttled]) -> errors.Throttled | None:
    """The throttle this run met that covers ``request``: its tenant's or app's, or its mailbox's."""
    return paused.get("*") or (paused.get(request.mailbox.lower()) if request.mailbox else None)
