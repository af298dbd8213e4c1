"""The ``outlook-sync`` command line: serve (with its buffering front), worker, migrate, status, host
helpers, demo and emulator."""
