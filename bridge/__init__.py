"""The Graph-facing side of Outlook Calendar for the LMS: storage, rules, reconciler, worker.

Nothing here imports Flask or :mod:`plugin`; the web side composes these parts.
"""
