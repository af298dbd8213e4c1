"""The Flask application factory, named by ``plugin.json`` as ``plugin:create_app``."""
from __future__ import annotations

from flask import Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bridge.config import Settings
from bridge.db import Database
from plugin import actions, consent_views, feed, hooks, launch, page
from plugin.manifest import load_manifest
from plugin.services import EXTENSION, Services, services


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the app; a bad environment or manifest raises here, so start-up stops."""
    settings = settings or Settings.from_env()
    manifest = load_manifest()
    app = Flask(__name__)
    app.secret_key = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = hooks.MAX_BODY_BYTES
    app.extensions[EXTENSION] = Services(settings, database or Database(settings.database_url), manifest)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(launch.bp)  # settings page: session, CSRF, static files
    app.register_blueprint(page.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(feed.bp)
    app.add_url_rule("/healthz", view_func=healthz)
    launch.redact_access_logs()
    feed.redact_access_logs()
    return app


def healthz() -> ResponseReturnValue:
    """Liveness for load balancers: 503 while the database cannot be reached."""
    try:
        with services().database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError:
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "version": services().manifest.version}
