"""``python -m plugin.cli``: the ``outlook-sync`` command (:func:`plugin.cli.main.main`)."""
from plugin.cli.main import main

raise SystemExit(main())
