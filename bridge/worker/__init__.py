"""The worker process: the loop that claims dirty users and passes them (:mod:`~bridge.worker.loop`),
and its housekeeping jobs, each named with its period (:mod:`~bridge.worker.jobs`). The top of the
stack: it may import every other package of :mod:`bridge`."""
