"""The Flask application factory, named by ``plugin.json`` as ``plugin:create_app``."""
from __future__ import annotations

from flask import Flask, session

from bridge import logs
from bridge.config import Settings
from bridge.db import Database
from plugin import actions, consent_views, feed, hooks, i18n, launch, ops, page, redact, trust_views
from plugin.manifest import load_manifest
from plugin.services import EXTENSION, Services


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the app; a bad environment or manifest raises here, so start-up stops."""
    settings = settings or Settings.from_env()
    manifest = load_manifest()
    app = Flask(__name__)
    app.secret_key = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = hooks.MAX_BODY_BYTES
    app.extensions[EXTENSION] = Services(settings, database or Database(settings.database_url), manifest)
    i18n.init_app(app)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(launch.bp)  # settings page: session, CSRF, static files
    app.register_blueprint(page.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(trust_views.bp)
    app.before_request(_log_fields)
    app.register_blueprint(feed.bp)
    redact.redact_access_logs()
    return app


def _log_fields() -> None:
    """Each request's log lines name the launched account and user, if any (hooks add theirs)."""
    logs.clear()
    logs.add(account=session.get("account"), user=session.get("user_id"))

