"""The v2.0 admin-consent page: what an Azure AD administrator sees when opening the link.

GET shows the app and the permissions it asks for, with **Accept** and **Cancel**; POST grants
consent in the tenant and redirects exactly as Entra ID does (``admin_consent=True&tenant=…``),
or redirects with ``error=consent_required`` (AADSTS65004) on Cancel. With the
``organizations`` authority the page asks for the "Administrator account", whose domain picks
the tenant. An unknown app or an unregistered redirect URI gets an error page, never a redirect.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from .core import Emulator
from .state import App, Tenant
from .tokens import GRAPH_SCOPE

PERMISSIONS = {
    "Calendars.ReadWrite": "Read and write calendars in all mailboxes",
    "Calendars.Read": "Read calendars in all mailboxes",
    "User.Read.All": "Read all users' full profiles",
    "Directory.Read.All": "Read directory data",
    "Domain.Read.All": "Read domains",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.75rem}"
    "input{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box}"
    ".error{color:#a4262c;border-left:4px solid #a4262c;padding-left:.75rem}"
)


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style>'
        f"</head><body><main>{body}</main></body></html>"
    )
    return HTMLResponse(doc, status)


def _error_page(code: int, message: str) -> HTMLResponse:
    return _page(
        "Sign in error",
        f'<h1>Sorry, but we\'re having trouble signing you in.</h1><p role="alert" class="error">'
        f"AADSTS{code}: {html.escape(message)}</p>",
        400,
    )


def _redirect(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)


def _consent_form(path: str, app: App, tenant: Tenant | None, fields: dict[str, str], error: str = "") -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in fields.items()
        if k in ("client_id", "scope", "redirect_uri", "state")
    )
    perms = "".join(
        f"<li><strong>{html.escape(PERMISSIONS.get(r, r))}</strong> ({html.escape(r)})</li>" for r in app.required_roles
    )
    where = f" for {html.escape(tenant.name)}" if tenant else " for your organization"
    account = (
        ""
        if tenant
        else (
            '<p><label for="admin_account">Administrator account</label><br>'
            '<input id="admin_account" name="admin_account" type="email" autocomplete="username" required '
            f'value="{html.escape(fields.get("admin_account", ""))}"'
            + (' aria-invalid="true" aria-describedby="account-error"' if error else "")
            + "></p>"
        )
    )
    problem = f'<p id="account-error" role="alert" class="error">{html.escape(error)}</p>' if error else ""
    body = (
        f"<h1>Permissions requested</h1><p><strong>{html.escape(app.display_name)}</strong> "
        f"(application id {html.escape(app.client_id)}) asks for these application permissions"
        f"{where}:</p><ul>{perms}</ul>"
        "<p>Accepting grants them for every user in the organization. You can revoke them later.</p>"
        f'<form method="post" action="{html.escape(path)}" aria-label="Admin consent">{hidden}{problem}{account}'
        '<button type="submit" name="action" value="accept">Accept</button>'
        '<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></form>'
    )
    return _page("Permissions requested", body)


async def admin_consent(request: Request) -> Response:
    emu: Emulator = request.app.state.emu
    ref = request.path_params["tenant"]
    if request.method == "POST":
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    else:
        fields = dict(request.query_params)
    response = _handle(emu, request, ref, fields)
    emu.metrics.record(
        kind="consent",
        method=request.method,
        path=request.url.path,
        status=response.status_code,
        tenant=ref,
        client_id=fields.get("client_id"),
    )
    return response


def _handle(emu: Emulator, request: Request, ref: str, fields: dict[str, str]) -> Response:
    client_id = fields.get("client_id", "")
    if not client_id:
        return _error_page(900144, "The request body must contain the following parameter: 'client_id'.")
    app = emu.world.apps.get(client_id.lower())
    if app is None:
        return _error_page(700016, f"Application with identifier '{client_id}' was not found in the directory '{ref}'.")
    redirect_uri = fields.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        return _error_page(
            50011,
            f"The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs "
            f"configured for the application '{app.client_id}'. Make sure the redirect URI sent in the "
            "request matches one added to your application in the Azure portal.",
        )
    state = {"state": fields["state"]} if "state" in fields else {}
    multi = ref.lower() == "organizations"
    tenant = None if multi else emu.world.resolve_tenant(ref)
    if not multi and tenant is None:
        if ref.lower() in ("common", "consumers"):
            return _error_page(
                90130, f"Application '{app.client_id}' is not supported over the /common or /consumers endpoints."
            )
        return _error_page(90002, f"Tenant '{ref}' not found.")
    if fields.get("scope") != GRAPH_SCOPE:
        return _redirect(
            redirect_uri,
            {
                "error": "invalid_request",
                "error_description": f"AADSTS70011: The provided value for the input parameter 'scope' is not valid. "
                f"The scope '{fields.get('scope', '')}' does not exist.",
                **state,
            },
        )
    if request.method == "GET":
        return _consent_form(request.url.path, app, tenant, fields)
    if fields.get("action") == "cancel":
        return _redirect(
            redirect_uri,
            {
                "admin_consent": "True",
                "error": "consent_required",
                "error_description": "AADSTS65004: User declined to consent to access the app.",
                **state,
            },
        )
    if fields.get("action") != "accept":
        return _consent_form(request.url.path, app, tenant, fields, "Choose Accept or Cancel.")
    if tenant is None:
        account = fields.get("admin_account", "").strip()
        domain = account.rsplit("@", 1)[1] if "@" in account else ""
        tenant = emu.world.resolve_tenant(domain) if domain else None
        if tenant is None:
            message = (
                f"We couldn't find an account with the domain of '{account}'. Check the address and try again."
                if account
                else "Enter the administrator account (name@your-domain)."
            )
            return _consent_form(request.url.path, app, None, fields, message)
    emu.world.grant(tenant, app.client_id)
    return _redirect(redirect_uri, {"admin_consent": "True", "tenant": tenant.id, "scope": GRAPH_SCOPE, **state})


routes = [Route("/{tenant}/v2.0/adminconsent", admin_consent, methods=["GET", "POST"])]
