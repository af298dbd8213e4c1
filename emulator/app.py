"""The ASGI application: identity platform, Graph v1.0 and the admin API on one origin."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from . import admin, admin_rbac, consent, graph, identity
from .config import Options, options_from_env
from .core import Emulator
from .csdl import load_schema
from .zones import Zones, load_iana_zones, load_windows_zones

GRAPH_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def build_emulator(options: Options | None = None) -> Emulator:
    """Load the CSDL (failing loudly if absent) and the zone lists and make the shared state."""
    options = options or options_from_env()
    schema = load_schema(options.csdl_path)
    zones = Zones(load_windows_zones(), load_iana_zones())
    return Emulator(options, schema, zones)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": f"no route for {request.method} {request.url.path}"}, 404)


def create_app(options: Options | None = None, emulator: Emulator | None = None) -> Starlette:
    """Starlette app; ``emulator`` lets a caller share or inspect the state directly."""
    emu = emulator or build_emulator(options)
    routes = [
        Mount("/_emulator", routes=admin.routes + admin_rbac.routes),
        Route("/v1.0/{path:path}", graph.endpoint, methods=GRAPH_METHODS),
        *identity.routes,
        *consent.routes,
    ]
    app = Starlette(routes=routes, exception_handlers={404: _not_found})
    app.state.emu = emu
    return app
