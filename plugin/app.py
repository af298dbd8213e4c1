"""The Flask application factory, named by ``plugin.json`` as ``plugin:create_app``."""
from __future__ import annotations

from flask import Flask, session

from bridge import logs
from bridge.config import Settings
from bridge.db import Database
from plugin import csrf, i18n, launch, ops, redact, templating
from plugin.consent import views as consent_views
from plugin.contract.manifest import load_manifest
from plugin.feeds import views as feed
from plugin.hooks import views as hooks
from plugin.page import actions, trust_views
from plugin.page import views as page
from plugin.services import EXTENSION, Services
from plugin.signed import MAX_BODY_BYTES
from plugin.user_state import views as user_state


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the app; a bad environment or manifest raises here, so start-up stops."""
    settings = settings or Settings.from_env()
    manifest = load_manifest()
    app = Flask(__name__)
    app.secret_key = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[EXTENSION] = Services(settings, database or Database(settings.database_url), manifest)
    i18n.init_app(app)
    launch.init_app(app)  # the settings page's session cookie
    csrf.init_app(app)
    app.register_blueprint(hooks.bp)
    templating.init_app(app)  # the page's templates and static files
    app.register_blueprint(page.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(trust_views.bp)
    app.before_request(_log_fields)
    app.register_blueprint(feed.bp)
    app.register_blueprint(user_state.bp)
    redact.redact_access_logs()
    return app


def _log_fields() -> None:
    """Each request's log lines name the launched account and user, if any (hooks add theirs)."""
    logs.clear()
    logs.add(account=session.get("account"), user=session.get("user_id"))

