"""Every Graph request goes through :meth:`Exchange.run`, the one place for the wire's rules:

- ``$batch`` chunking: at most 20 requests per envelope, at most 4 of one mailbox, a mailbox's
  requests kept in their order (deletions before creations);
- the per-mailbox limit: at most 4 requests in flight per mailbox across the process's threads;
- ``Retry-After`` and throttle rounds: items answered 429 are not applied; they go again after the
  longest ``Retry-After`` of the round, for a few rounds, then come back as :class:`errors.Throttled`;
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
from bridge.graph.wire import Request, Transport, error_for

BATCH_LIMIT = 20  # Graph's limit of requests in one $batch
PER_MAILBOX = 4  # Graph's concurrency limit per mailbox (facts.md)
THROTTLE_ROUNDS = 6
MAX_WAIT = 60.0  # a longer Retry-After goes back to the worker, which retries the user later
READ_RETRIES = 2

Answer = Any  # the decoded body of a 2xx answer, or the typed error of any other


def chunks(batch: Sequence[Request]) -> list[list[int]]:
    """Indexes of ``batch`` in envelopes: ≤ 20 each, ≤ 4 per mailbox, a mailbox's order kept."""
    out: list[list[int]] = []
    counts: list[Counter[str]] = []
    last: dict[str, int] = {}
    for n, request in enumerate(batch):
        box = request.mailbox or ""
        first = last.get(box, 0)
        at = next((c for c in range(first, len(out)) if len(out[c]) < BATCH_LIMIT
                   and (not request.mailbox or counts[c][box] < PER_MAILBOX)), len(out))
        if at == len(out):
            out.append([])
            counts.append(Counter())
        out[at].append(n)
        counts[at][box] += 1
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
        throttle_round = read_retries = 0
        while pending:
            throttled: list[int] = []
            lost: list[int] = []
            wait = 0.0
            for chunk in chunks([batch[n] for n in pending]):
                indexes = [pending[c] for c in chunk]
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
                        throttled.append(n)
                        wait = max(wait, answer.retry_after)
                    elif isinstance(answer, errors.Transient) and batch[n].reads:
                        lost.append(n)
                        wait = max(wait, answer.retry_after or 0.0)
            pending = []
            if throttled and throttle_round < THROTTLE_ROUNDS and (wait or 0.0) <= MAX_WAIT:
                pending += throttled
                throttle_round += 1
            if lost and read_retries < READ_RETRIES:
                pending += lost
                wait = max(wait, backoff(read_retries, base=0.5, cap=30.0))
                read_retries += 1
            if pending:
                pause = wait or backoff(throttle_round, base=1.0, cap=MAX_WAIT)
                metrics.waited(pause)
                self._sleep(pause)
                pending.sort()
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
        return [error_for(reply, scoped=scoped and request.mailbox is not None) or reply.body
                for request, reply in zip(batch, replies, strict=True)]

    def close(self) -> None:
        self._transport.close()
