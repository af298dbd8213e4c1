"""The worker process: the loop that claims dirty users and passes them
(:mod:`~bridge.worker.loop`), and the housekeeping jobs it runs on their own periods. The top of the
stack: it may import every other package of :mod:`bridge`."""
