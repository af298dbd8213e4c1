"""An LMS account's side: consent and the connection's state machine
(:mod:`~bridge.accounts.connection`), per-user status (:mod:`~bridge.accounts.status`), single-use
launches, and the gauges read at each scrape. May import everything up to :mod:`bridge.trust`."""
