"""B3's baseline: a bare Flask ``POST /hooks`` (read the body, answer 202 JSON; no signature, no database).

Served by the same gunicorn settings as ``outlook-sync serve`` (gthread, ``--workers``/``--threads``,
no access log), so B3's ratio plugin/bare isolates what the plugin does per delivery:
``python -m benchmarks.bare_app --port 8001 --workers 2 --threads 8``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.post("/hooks")
def receive() -> ResponseReturnValue:
    body = request.get_data(cache=False)
    return {"status": "accepted", "bytes": len(body)}, 202


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


def main() -> int:
    from gunicorn.app.base import BaseApplication

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    class _Server(BaseApplication):  # the configuration of plugin.cli.cmd_serve
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            return app

    _Server().run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
