"""The Graph-facing side of Outlook Calendar for the LMS: storage, rules, the sync, the worker.

Nothing here imports Flask, :mod:`plugin` or :mod:`emulator`. Packages are stacked: each imports only
from the ones above it in this list (``tests/test_layers.py`` enforces it, deferred imports included),
so the map reads top to bottom as the data flows (DESIGN §4)::

    config db models codes     the floor: process settings, the database, its tables, state codes
    metrics logs i18n migrate  counters (no database reads), JSON logs, catalogues, schema upgrades
    graph/          the Graph gateway: tokens, wire, $batch, errors, backoff, the in-memory tenant
    queue/          durable work: dirty keys, claims and leases, wake-ups, retry decisions
    lms/            the LMS's state: hooks ingested, users' views, the rules, who is eligible, settings
    sync/           one pass: reconcile (plan), steps (settle), run, store, guard, payloads, zones
    trust/          what lets an owner trust it: preview, credentials, health, audit
    accounts/       consent, the connection's state machine, status, launches, gauges
    feeds/          calendar feeds for users Graph cannot reach      } beside each other,
    outlook_check/  what users did to their entries in Outlook       } neither imports the other
    worker/         the loop that claims work, and its named housekeeping jobs
"""
