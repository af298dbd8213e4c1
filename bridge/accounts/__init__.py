"""An LMS account's side: consent and Connect integration (:mod:`~bridge.accounts.consent`), the
connection's state machine (:mod:`~bridge.accounts.connection`), the periodic full pass
(:mod:`~bridge.accounts.schedule`), per-user status (:mod:`~bridge.accounts.status`), single-use
launches and request ids (:mod:`~bridge.accounts.request_ids`), each account's host keys
(:mod:`~bridge.accounts.host_keys`), and the gauges read at each scrape. Within it, ``consent`` →
``connection`` → ``schedule``. May import everything up to :mod:`bridge.trust`."""
