"""The ``outlook-sync`` command: serve, worker, migrate, status, demo, emulator."""
from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from bridge.config import ConfigError, Settings
from bridge.db import Database

log = logging.getLogger("outlook_sync")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise SystemExit(f"outlook-sync: configuration error: {exc}") from None


def _database(settings: Settings) -> Database:
    from bridge.migrate import upgrade

    database = Database(settings.database_url)
    upgrade(database.engine)
    return database


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _database(settings)
    print("database is at the current schema")
    return 0


def run_worker(settings: Settings, database: Database) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    from bridge.graph.client import Graph
    from bridge.guard import Guard
    from bridge.worker import Worker

    worker = Worker(database, Graph.from_settings(settings), concurrency=settings.worker_concurrency,
                    full_reconcile=timedelta(minutes=settings.full_reconcile_minutes),
                    guard=Guard(settings.removal_guard_percent, settings.removal_guard_minimum))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    log.info("worker %s started", worker.name)
    worker.run()


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    run_worker(settings, _database(settings))
    return 0


def serve_with_gunicorn(load: Callable[[], Any], host: str, port: int, workers: int, threads: int) -> None:
    """Serve the WSGI app that ``load`` builds (in each web process) with gunicorn's gthread workers."""
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", None)

        def load(self) -> Any:
            return load()

    _Server().run()


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app with gunicorn; by default a worker process runs beside it."""
    from plugin.app import create_app

    settings = _settings()
    database = _database(settings)
    database.dispose()
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "plugin.cli", "worker"])
    print(f"Outlook Calendar for the LMS on http://{args.host}:{args.port}/integrations/outlook", flush=True)
    try:
        serve_with_gunicorn(lambda: create_app(settings), args.host, args.port, args.workers, args.threads)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bridge import guard, status

    settings = _settings()
    database = _database(settings)
    with database.session() as session:
        accounts = status.accounts(session)
        if args.account:
            accounts = [a for a in accounts if a.id == args.account]
        for account in accounts:
            counts = status.counts(session, account.id)
            print(f"account {account.id}: {account.state or 'disconnected'}"
                  f"{' (' + account.reason + ')' if account.reason else ''}"
                  f" tenant={account.tenant_id or '-'}")
            print("  " + "  ".join(f"{k}={v}" for k, v in counts.items()))
            hold = guard.current(session, account.id)
            if hold is not None:
                print(f"  removals on hold: {hold.removals} of {hold.future_entries} future entries ({hold.reason});"
                      " confirm them on the page")
            rows, _ = status.users(session, account.id, state=args.state, limit=args.limit)
            for row in rows:
                reason = f" ({row.reason})" if row.reason else ""
                print(f"    {row.user_id:<20} {row.email or '-':<32} {row.state}{reason} entries={row.entries}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from plugin.demo import run_demo

    return run_demo(keep_running=args.keep_running)


def cmd_emulator(args: argparse.Namespace) -> int:
    from emulator.server import serve

    serve(host=args.host, port=args.port, cert_dir=args.cert_dir)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="outlook-sync", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the hooks and the page (and a worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=2, help="web processes")
    serve.add_argument("--threads", type=int, default=8, help="threads per web process")
    serve.add_argument("--no-worker", action="store_true", help="do not start a sync worker beside it")
    serve.set_defaults(run=cmd_serve)
    commands.add_parser("worker", help="run a sync worker").set_defaults(run=cmd_worker)
    commands.add_parser("migrate", help="bring the database to the current schema").set_defaults(run=cmd_migrate)
    status = commands.add_parser("status", help="per-account, per-user sync state")
    status.add_argument("--account")
    status.add_argument("--state", choices=("synced", "pending", "retrying", "skipped", "failed"))
    status.add_argument("--limit", type=int, default=50)
    status.set_defaults(run=cmd_status)
    demo = commands.add_parser("demo", help="the embedded default end to end, against the emulator")
    demo.add_argument("--keep-running", action="store_true", help="keep serving the page after the summary")
    demo.set_defaults(run=cmd_demo)
    emulator = commands.add_parser("emulator", help="run the local Microsoft identity + Graph emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8443)
    emulator.add_argument("--cert-dir", default=None)
    emulator.set_defaults(run=cmd_emulator)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parser().parse_args(argv)
    return int(args.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
