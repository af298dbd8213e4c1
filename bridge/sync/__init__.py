"""One reconcile pass (:mod:`~bridge.sync.run`): read, plan (:mod:`~bridge.sync.reconcile`), look up,
record, apply through the gateway, settle (:mod:`~bridge.sync.steps`), write back
(:mod:`~bridge.sync.store`), each phase handing the next one value (:mod:`~bridge.sync.phases`); the
mass-removal guard, the entries' payloads, their rich text and zones. May import the floor, graph,
queue and lms."""
