"""Durable work: a hook marks users dirty in the transaction that stores the change
(:mod:`~bridge.queue.dirty_keys`), workers claim them with leases, wake-ups tell idle workers at once
(:mod:`~bridge.queue.wakeup`), and what to do after a failure is a value (:mod:`~bridge.queue.retry`).
May import the floor and :mod:`bridge.graph` (its errors)."""
