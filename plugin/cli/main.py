"""The ``outlook-sync`` command: serve, worker, migrate, status, demo, emulator, host, host-key."""
from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from bridge import logs
from bridge.config import DEFAULT_DATABASE_URL, ConfigError, Settings, log_format
from bridge.db import Database, DatabaseUnreachable
from plugin.cli import host as host_cli
from plugin.cli import host_keys as host_key_cli

log = logging.getLogger("outlook_sync")
WORKER_CONNECTIONS = 4096  # open connections per web process, less near the file limit (plugin.cli.sockets)


def _settings() -> Settings:
    """Settings from the environment, or exit naming every missing or malformed variable."""
    try:
        return Settings.from_env()
    except ConfigError as exc:
        problems = "\n".join(f"  {variable}: {problem}" for variable, problem in exc.problems)
        raise SystemExit(f"outlook-sync: configuration error (see README, Configuration):\n{problems}") from None


def _database(settings: Settings) -> Database:
    """The database at the current schema, or exit with one line naming OUTLOOK_SYNC_DATABASE_URL."""
    from bridge.migrate import upgrade

    if settings.database_url == DEFAULT_DATABASE_URL:
        Path(DEFAULT_DATABASE_URL.split(":///", 1)[1]).parent.mkdir(exist_ok=True)  # ./var, the documented default
    try:
        database = Database(settings.database_url)
        database.check()
        upgrade(database.engine)
    except DatabaseUnreachable as error:
        raise SystemExit(f"outlook-sync: OUTLOOK_SYNC_DATABASE_URL: {error}") from None
    except DBAPIError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise SystemExit(f"outlook-sync: OUTLOOK_SYNC_DATABASE_URL: cannot bring the database to the current "
                         f"schema: {reason}") from None
    return database


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    _database(settings)
    print("database is at the current schema")
    return 0


def run_worker(settings: Settings, database: Database) -> None:
    """Run a worker until SIGTERM or SIGINT."""
    from bridge.graph.client import Graph
    from bridge.models import utcnow
    from bridge.sync.guard import Guard
    from bridge.trust import credentials
    from bridge.worker.loop import Worker, clock_warning

    graph = Graph.from_settings(settings)
    graph.tokens.on_outcome = credentials.recorder(database)
    with database.session() as session:
        credentials.note_rotation(session, credentials.settings_fingerprints(settings), utcnow())
    worker = Worker(database, graph, concurrency=settings.worker_concurrency,
                    full_reconcile=timedelta(minutes=settings.full_reconcile_minutes),
                    guard=Guard(settings.removal_guard_percent, settings.removal_guard_minimum))
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop())
    logs.add_process(worker=worker.name)
    log.info("worker %s started", worker.name)
    skewed = clock_warning(database.clock_offset(), worker.lease)
    if skewed:
        log.warning("worker: %s", skewed)
    worker.run()


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    database = _database(settings)
    if args.metrics_port:
        from bridge.accounts import gauges

        gauges.serve_http(database, args.metrics_host, args.metrics_port)
    run_worker(settings, database)
    return 0


def serve_with_gunicorn(load: Callable[[], Any], host: str, port: int, workers: int, threads: int,
                        ops: tuple[Callable[[], Any], str, int] | None = None) -> None:
    """Serve the WSGI app that ``load`` builds (in each web process) with gunicorn on ``host:port``, and
    the one ``ops`` = (load, host, port) builds on that second listener.

    gunicorn's asyncio (``asgi``) worker reads every connection (:mod:`plugin.cli.sockets` bounds them
    in time and count); :class:`plugin.cli.front.BufferedFront` hands the app whole requests only, on
    ``threads`` threads per process, so slow or idle clients hold sockets, not threads (docs/SECURITY.md).
    """
    from gunicorn.app.base import BaseApplication

    from plugin.cli.front import BufferedFront, Listeners
    from plugin.limits import body_limit

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", [f"{host}:{port}"] + ([f"{ops[1]}:{ops[2]}"] if ops else []))
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "plugin.cli.sockets.GuardedWorker")
            self.cfg.set("worker_connections", WORKER_CONNECTIONS)
            self.cfg.set("accesslog", None)
            self.cfg.set("logger_class", _root_logger_class())
            self.cfg.set("child_exit", _child_exit)
            # gunicorn's control socket sits at one fixed path per user ($XDG_RUNTIME_DIR or
            # ~/.gunicorn/gunicorn.ctl): a second instance on the machine, or a home folder shared by
            # several machines, would take it over. Nothing here uses it; systemd signals the arbiter.
            self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            public = BufferedFront(load(), threads, body_limit)
            if ops is None:
                return public
            return Listeners(public, BufferedFront(ops[0](), 2, lambda _method, _path: 0), ops[2])

    _Server().run()


def _port_free(host: str, port: int, option: str = "--port") -> None:
    """Exit with a clear message when nobody can listen on ``host:port`` (before any process starts)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            raise SystemExit(f"outlook-sync: cannot listen on {host}:{port}: {error.strerror}; stop what uses "
                             f"it or choose another {option}") from None


def _root_logger_class() -> type:
    """gunicorn's logger class, made here: gunicorn is imported only by ``serve``."""
    from gunicorn.glogging import Logger

    class RootLogger(Logger):
        """gunicorn's own lines go through the root logger, so they share its format (text or JSON)."""

        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            self.error_log.handlers.clear()
            self.error_log.propagate = True

    return RootLogger


def _child_exit(_arbiter: Any, worker: Any) -> None:
    from bridge import metrics

    metrics.process_exited(worker.pid)


@contextlib.contextmanager
def multiprocess_metrics() -> Iterator[str]:
    """Give every process ``serve`` starts one private, empty folder for its metrics; remove it after.

    prometheus_client reads ``PROMETHEUS_MULTIPROC_DIR`` when it is first imported, so this runs
    before anything imports it; the worker process inherits the variable and writes there too.
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before serve chose its metrics folder")
    folder = tempfile.mkdtemp(prefix="outlook-sync-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    owner = os.getpid()
    try:
        yield folder
    finally:
        if os.getpid() == owner:  # not in a gunicorn worker leaving through this frame, forked from serve
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(folder, ignore_errors=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app with gunicorn; by default a worker process runs beside it."""
    with multiprocess_metrics():
        return _serve(args)


def _serve(args: argparse.Namespace) -> int:
    from bridge import metrics
    from plugin.app import create_app, create_ops_app
    from plugin.cli.sockets import raise_file_limit

    settings = _settings()
    if args.ops_port == args.port:
        raise SystemExit("outlook-sync: --ops-port must differ from --port (the operators' listener is its own)")
    _port_free(args.host, args.port)
    _port_free(args.ops_host, args.ops_port, "--ops-port")
    soft, _hard = raise_file_limit()
    log.info("open files: up to %d per process", soft)
    database = _database(settings)
    database.dispose()
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "plugin.cli", "worker"])
    print(f"Outlook Calendar for the LMS on http://{args.host}:{args.port}/integrations/outlook", flush=True)
    owner = os.getpid()
    try:
        serve_with_gunicorn(lambda: create_app(settings), args.host, args.port, args.workers, args.threads,
                            ops=(lambda: create_ops_app(settings), args.ops_host, args.ops_port))
    finally:
        if worker is not None and os.getpid() == owner:  # gunicorn's forked workers exit through here too
            worker.terminate()
            worker.wait(timeout=30)
            metrics.process_exited(worker.pid)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Print each account's connection and per-user state; exit 1 for an unknown ``--account``."""
    from bridge.accounts import status
    from bridge.models import utcnow
    from bridge.sync import guard
    from plugin.cli import status as trust_status

    settings = _settings()
    database = _database(settings)
    with database.session() as session:
        accounts = status.accounts(session)
        if not accounts:
            print("no LMS account yet: an account is known from its first hook or page launch")
            return 0
        if args.account:
            known = [a.id for a in accounts]
            accounts = [a for a in accounts if a.id == args.account]
            if not accounts:
                print(f"outlook-sync: no account {args.account!r}; known accounts: {', '.join(known)}",
                      file=sys.stderr)
                return 1
        now = utcnow()
        for line in trust_status.credential_lines(session, settings, now):
            print(line)
        for account in accounts:
            counts = status.counts(session, account.id)
            print(f"account {account.id}: {account.state or 'disconnected'}"
                  f"{' (' + account.reason + ')' if account.reason else ''}"
                  f" tenant={account.tenant_id or '-'}")
            print("  " + "  ".join(f"{k}={v}" for k, v in counts.items()))
            print(trust_status.health_line(session, account.id, now))
            hold = guard.current(session, account.id)
            if hold is not None:
                print(f"  removals on hold: {hold.removals} of {hold.future_entries} future entries"
                      f" ({guard.reason(hold)}); confirm them on the page")
            rows, _ = status.users(session, account.id, state=args.state, limit=args.limit)
            for row in rows:
                reason = f" ({row.reason})" if row.reason else ""
                print(f"    {row.user_id:<20} {row.email or '-':<32} {row.state}{reason} entries={row.entries}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from plugin.demo.run import run_demo

    return run_demo(keep_running=args.keep_running)


def cmd_emulator(args: argparse.Namespace) -> int:
    """Run the emulator (optionally seeded) until interrupted; exit 2 naming what stops it from starting."""
    from emulator.csdl import CsdlMissing
    from emulator.server import serve

    try:
        public_url = args.public_url or os.environ.get("OUTLOOK_SYNC_PUBLIC_URL") or "http://127.0.0.1:8000"
        serve(host=args.host, port=args.port, cert_dir=args.cert_dir, seed=args.seed, public_url=public_url)
    except (CsdlMissing, OSError) as error:
        print(f"outlook-sync emulator: {error}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    """The ``outlook-sync`` argument parser: every command and option with its help."""
    root = argparse.ArgumentParser(prog="outlook-sync", description="Outlook Calendar for the LMS: serve the "
                                   "plugin, run sync workers, migrate, show sync state, run the demo or the "
                                   "emulator, act as the LMS.",
                                   epilog="Settings come from OUTLOOK_SYNC_* variables (README, Configuration).")
    commands = root.add_subparsers(dest="command", required=True, metavar="command", help="what to do")
    serve = commands.add_parser("serve", help="serve the hooks and the page (and a worker)",
                                description="Serve the hooks and the page with gunicorn; a sync worker runs beside "
                                            "it unless --no-worker. Migrates the database first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")
    serve.add_argument("--ops-host", default="127.0.0.1",
                       help="address of the operators' listener, /readyz and /metrics (default: %(default)s)")
    serve.add_argument("--ops-port", type=int, default=9465,
                       help="port of the operators' listener (default: %(default)s)")
    serve.add_argument("--workers", type=int, default=2, help="web processes (default: %(default)s)")
    serve.add_argument("--threads", type=int, default=8, help="threads per web process (default: %(default)s)")
    serve.add_argument("--no-worker", action="store_true",
                       help="do not start a sync worker beside it (run `outlook-sync worker` elsewhere)")
    serve.set_defaults(run=cmd_serve)
    worker = commands.add_parser("worker", help="run a sync worker",
                                 description="Run a sync worker until SIGTERM or Ctrl-C; several may share "
                                             "PostgreSQL.")
    worker.add_argument("--metrics-port", type=int, default=0,
                        help="answer Prometheus scrapes at http://<metrics-host>:<port>/metrics (default: off)")
    worker.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port (default: 127.0.0.1)")
    worker.set_defaults(run=cmd_worker)
    commands.add_parser("migrate", help="bring the database to the current schema",
                        description="Create or upgrade the tables at OUTLOOK_SYNC_DATABASE_URL; running it "
                                    "again changes nothing.").set_defaults(run=cmd_migrate)
    status = commands.add_parser("status", help="per-account, per-user sync state",
                                 description="Print each LMS account's connection and its users' sync state.")
    status.add_argument("--account", help="only this LMS account id")
    status.add_argument("--state", choices=("synced", "pending", "retrying", "skipped", "failed"),
                        help="only users in this state")
    status.add_argument("--limit", type=int, default=50, help="users shown per account (default: %(default)s)")
    status.set_defaults(run=cmd_status)
    demo = commands.add_parser("demo", help="the embedded default end to end, against the emulator",
                               description="Start the emulator and the plugin (SQLite under ./var), load a sample "
                                           "LMS account, go through consent, sync, and print what each user got. "
                                           "Needs the 'emulator' extra.")
    demo.add_argument("--keep-running", action="store_true",
                      help="keep serving the page after the summary, until Ctrl-C")
    demo.set_defaults(run=cmd_demo)
    emulator = commands.add_parser("emulator", help="run the local Microsoft identity + Graph emulator",
                                   description="Run the local Microsoft identity platform + Graph stand-in over "
                                               "HTTPS; prints its base URL and CA path. Needs the 'emulator' extra.")
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    emulator.add_argument("--port", type=int, default=8443, help="port to listen on, 0 for any (default: %(default)s)")
    emulator.add_argument("--cert-dir", default=None,
                          help="folder for its CA and server certificate, reused across runs (default: a new "
                               "temporary folder)")
    emulator.add_argument("--seed", choices=("demo",), default=None,
                          help="start with an app registration, a tenant and users, and print the variables "
                               "that point `outlook-sync serve` at it")
    emulator.add_argument("--public-url", default=None,
                          help="with --seed: the plugin's public URL, for the app's redirect URI (default: "
                               "$OUTLOOK_SYNC_PUBLIC_URL, else http://127.0.0.1:8000)")
    emulator.set_defaults(run=cmd_emulator)
    host_cli.add_commands(commands)
    host_key_cli.add_commands(commands, lambda: (settings := _settings(), _database(settings)))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command ``argv`` names (default: the process's arguments); its exit status."""
    try:
        logs.configure(log_format())
    except ConfigError as exc:
        raise SystemExit(f"outlook-sync: configuration error: {exc}") from None
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl …", "Running upgrade …"
    args = parser().parse_args(argv)
    try:
        status = int(args.run(args) or 0)
        sys.stdout.flush()  # the last lines now, while a closed reader can still be answered below
    except BrokenPipeError:
        # whoever read the output stopped (``outlook-sync status | head``): end quietly with the status a
        # shell gives a command ended by SIGPIPE, as any Unix tool would. Python ignores SIGPIPE and
        # raises instead; stdout goes to /dev/null so the interpreter's last flush cannot raise again
        # (docs.python.org/3/library/signal.html, "Note on SIGPIPE"). A network peer's closed socket
        # never reaches here as this error: urllib3 and the servers wrap or handle it themselves.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return status

