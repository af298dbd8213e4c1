"""Serve the emulator over HTTPS with uvicorn (one process, asyncio).

`serve` is what ``outlook-sync emulator`` and ``python -m emulator`` call. It binds first, so
``port=0`` picks a free port, then prints the base URL and the CA path before serving. The HTTP
protocol class is uvicorn's own, extended with one hook: the fault injector can drop a
connection without answering (a reset, or an "ambiguous" write).
"""

from __future__ import annotations

import importlib.util
import socket
import sys
from typing import Any, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import build_emulator, create_app
from .certs import ensure_tls_files
from .config import Options
from .faults import ABORT_KEY
from .seed import seed as seed_world
from .seed import settings_text


def _abortable(base: type[Any]) -> type[Any]:
    """Subclass a uvicorn HTTP protocol so each request's scope can abort its connection."""

    class Abortable(base):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            inner: Any = cast(Any, self).app

            async def app(scope: Any, receive: Any, send: Any) -> None:
                scope[ABORT_KEY] = self.transport.abort
                await inner(scope, receive, send)

            self.app = app

    Abortable.__name__ = f"Abortable{base.__name__}"
    return Abortable


def protocol_class() -> type[Any]:
    """httptools when installed (faster), else h11; both made abortable."""
    if importlib.util.find_spec("httptools") is not None:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return _abortable(HttpToolsProtocol)
    return _abortable(H11Protocol)


class _Server(uvicorn.Server):
    """Stops at once: idle TLS keep-alive connections would otherwise hold shutdown for 30 s."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()
        await super().shutdown(sockets)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say so, and
    # without it Nagle + delayed ACK add ~40 ms to every keep-alive response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    cert_dir: str | None = None,
    *,
    options: Options | None = None,
    out: Any = None,
    seed: str | None = None,
    public_url: str = "http://127.0.0.1:8000",
) -> None:
    """Run until interrupted. Prints ``base URL`` and ``CA certificate`` lines first.

    ``seed`` (see `emulator.seed`) fills the world first, the app redirecting to ``public_url``, and
    prints the plugin's settings for it. Raises CsdlMissing, ValueError (unknown seed), OSError (port).
    """
    out = out or sys.stdout
    emu = build_emulator(options)  # fails early, with a clear message, if the CSDL is missing
    seeded = seed_world(emu.world, emu.exchange, seed, public_url) if seed else None
    tls = ensure_tls_files(cert_dir, host)
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    base_url = f"https://{shown_host}:{actual_port}"
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    config = uvicorn.Config(
        create_app(emulator=emu),
        ssl_certfile=str(tls.cert_path),
        ssl_keyfile=str(tls.key_path),
        http=protocol_class(),
        loop=loop,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=2048,
        timeout_graceful_shutdown=5,
    )
    print(f"Outlook emulator (Microsoft identity platform + Graph v1.0) at {base_url}", file=out, flush=True)
    print(f"CA certificate: {tls.ca_path}", file=out, flush=True)
    print(
        f"Admin API: {base_url}/_emulator/  Authority: {base_url}/<tenant>  Graph: {base_url}/v1.0",
        file=out,
        flush=True,
    )
    if seeded is not None:
        print(settings_text(seeded, base_url, str(tls.ca_path), public_url), file=out, flush=True)
    server = _Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
