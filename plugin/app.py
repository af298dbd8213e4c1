"""The Flask application factory, named by ``plugin.json`` as ``plugin:create_app``."""
from __future__ import annotations

from flask import Flask, request, session
from werkzeug.exceptions import RequestEntityTooLarge

from bridge import logs
from bridge.config import Settings
from bridge.db import Database
from plugin import csrf, i18n, launch, limits, ops, redact, templating
from plugin.consent import views as consent_views
from plugin.contract.manifest import load_manifest
from plugin.feeds import views as feed
from plugin.hooks import views as hooks
from plugin.page import actions, trust_views
from plugin.page import views as page
from plugin.services import EXTENSION, Services
from plugin.user_state import views as user_state


def create_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """Build the app; a bad environment or manifest raises here, so start-up stops."""
    settings = settings or Settings.from_env()
    manifest = load_manifest()
    app = Flask(__name__)
    app.secret_key = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = limits.MAX_BODY_BYTES
    app.extensions[EXTENSION] = Services(settings, database or Database(settings.database_url), manifest)
    app.before_request(_limit_body)  # first: before anything reads a form
    i18n.init_app(app)
    launch.init_app(app)  # the settings page's session cookie
    csrf.init_app(app)
    app.register_blueprint(hooks.bp)
    templating.init_app(app)  # the page's templates and static files
    app.register_blueprint(page.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(consent_views.bp)
    app.register_blueprint(ops.public)  # /healthz; /readyz and /metrics: create_ops_app
    app.register_blueprint(trust_views.bp)
    app.before_request(_log_fields)
    app.register_blueprint(feed.bp)
    app.register_blueprint(user_state.bp)
    redact.redact_access_logs()
    return app


def create_ops_app(settings: Settings | None = None, database: Database | None = None) -> Flask:
    """The operators' app: ``/healthz``, ``/readyz`` and ``/metrics`` (:mod:`plugin.ops`) and nothing
    else, for a listener only monitoring reaches (``outlook-sync serve --ops-host/--ops-port``)."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 0  # none of its routes takes a body
    app.extensions[EXTENSION] = Services(settings, database or Database(settings.database_url), load_manifest())
    app.register_blueprint(ops.bp)
    return app


def _limit_body() -> None:
    """This request's body limit (:func:`plugin.limits.body_limit`): Werkzeug refuses a longer body with
    413 when the view reads it; a route that takes none refuses any body here, read or not."""
    request.max_content_length = limit = limits.body_limit(request.method, request.path)
    if limit == 0 and request.content_length:
        raise RequestEntityTooLarge()


def _log_fields() -> None:
    """Each request's log lines name the launched account and user, if any (hooks add theirs)."""
    logs.clear()
    logs.add(account=session.get("account"), user=session.get("user_id"))

