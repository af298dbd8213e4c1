"""The LMS's state: hook deliveries stored (:mod:`~bridge.lms.ingest`), a user's view of it
(:mod:`~bridge.lms.views`), and the pure rules of who gets which entry (:mod:`~bridge.lms.rules`,
:mod:`~bridge.lms.eligibility`). May import the floor, graph and queue."""
