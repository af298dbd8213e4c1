"""The LMS's state: hook deliveries stored (:mod:`~bridge.lms.ingest`), a user's view of it
(:mod:`~bridge.lms.views`), the pure rules of who gets which entry (:mod:`~bridge.lms.rules`,
:mod:`~bridge.lms.eligibility`), and an account's settings, read and written in one place
(:mod:`~bridge.lms.settings`). May import the floor, graph and queue."""
