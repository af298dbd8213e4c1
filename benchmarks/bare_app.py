"""B3's baseline: a bare Flask ``POST /hooks`` (read the body, answer 202 JSON; no signature, no database).

Served by the same gunicorn settings as ``outlook-sync serve`` (asgi worker and front, ``--workers``/``--threads``,
no access log), so B3's ratio plugin/bare isolates what the plugin does per delivery:
``python -m benchmarks.bare_app --port 8001 --workers 2 --threads 8``.
"""
from __future__ import annotations

import argparse
import sys

from flask import Flask, request
from flask.typing import ResponseReturnValue

from plugin.cli.main import serve_with_gunicorn

app = Flask(__name__)


@app.post("/hooks")
def receive() -> ResponseReturnValue:
    body = request.get_data(cache=False)
    return {"status": "accepted", "bytes": len(body)}, 202


@app.get("/healthz")
def healthz() -> ResponseReturnValue:
    return {"status": "ok"}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_app", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    serve_with_gunicorn(lambda: app, args.host, args.port, args.workers, args.threads)  # as outlook-sync serve
    return 0


if __name__ == "__main__":
    sys.exit(main())
