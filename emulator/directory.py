"""Graph's directory routes the product needs: ``/users``, ``/users/{id | upn}``, ``/domains``.

Directory reads need ``User.Read.All`` (or ``Directory.Read.All``) and ``Domain.Read.All``
(or ``Directory.Read.All``); without them Graph answers 403 Authorization_RequestDenied. Address
filters match case-insensitively, as Entra ID does.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

from .calls import Call, Result
from .core import Emulator
from .errors import GraphError
from .odata import FilterError, check_fields, check_options, evaluate, parse_filter, parse_int, parse_select
from .state import Tenant, User

USER_ROLES = {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
DOMAIN_ROLES = {"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
DEFAULT_USER_FIELDS = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
_FILTERS = {"mail", "userprincipalname", "displayname", "accountenabled", "id"}
_LAMBDAS = {"proxyaddresses": {""}}
_DENIED = ("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")


@dataclass
class DirTarget:
    tenant: Tenant
    user_ref: str | None


def prepare_users(emu: Emulator, call: Call, tenant: Tenant, params: dict[str, str]) -> DirTarget:
    if not call.principal.roles & USER_ROLES:
        raise GraphError(403, *_DENIED)
    return DirTarget(tenant, params.get("user"))


def prepare_domains(emu: Emulator, call: Call, tenant: Tenant, params: dict[str, str]) -> DirTarget:
    if not call.principal.roles & DOMAIN_ROLES:
        raise GraphError(403, *_DENIED)
    return DirTarget(tenant, None)


def _user_json(user: User, select: list[str] | None) -> dict[str, Any]:
    known = {
        "id": user.id,
        "userPrincipalName": user.user_principal_name,
        "displayName": user.display_name,
        "mail": user.mail,
        "proxyAddresses": user.proxy_addresses,
        "accountEnabled": user.account_enabled,
        "givenName": user.given_name,
        "surname": user.surname,
        "jobTitle": user.job_title,
        "businessPhones": [],
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": None,
        "otherMails": [],
        "imAddresses": [],
    }
    return {name: known.get(name) for name in (select or DEFAULT_USER_FIELDS)}


def _select(emu: Emulator, call: Call) -> list[str] | None:
    return parse_select(
        call.query.get("$select"), set(emu.schema.properties("microsoft.graph.user")), "microsoft.graph.user"
    )


def get_user(emu: Emulator, call: Call, t: DirTarget) -> Result:
    check_options(call.query, {"$select"})
    select = _select(emu, call)
    user = t.tenant.find_user(t.user_ref or "")
    if user is None:
        raise GraphError(
            404,
            "Request_ResourceNotFound",
            f"Resource '{t.user_ref}' does not exist or one of its queried reference-property objects are not present.",
        )
    context = f"{call.base}/v1.0/$metadata#users" + (f"({','.join(select)})" if select else "") + "/$entity"
    return Result(200, {"@odata.context": context, **_user_json(user, select)})


def _field(user: User, path: str) -> Any:
    low = path.lower()
    if low == "proxyaddresses":
        return user.proxy_addresses
    return {
        "mail": user.mail,
        "userprincipalname": user.user_principal_name,
        "displayname": user.display_name,
        "accountenabled": user.account_enabled,
        "id": user.id,
    }.get(low)


def _compare(path: str, left: Any, op: str, right: Any) -> bool:
    if op != "eq":
        raise FilterError(f"Operator '{op}' is not supported.")
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def list_users(emu: Emulator, call: Call, t: DirTarget) -> Result:
    q = call.query
    check_options(q, {"$select", "$filter", "$top", "$skiptoken"})
    select = _select(emu, call)
    top = max(parse_int(q.get("$top"), "$top", 100, 999), 1)
    users = list(t.tenant.users.values())
    if q.get("$filter"):
        try:
            tree = parse_filter(q["$filter"])
            check_fields(tree, _FILTERS, _LAMBDAS)
            users = [u for u in users if evaluate(tree, partial(_field, u), _compare)]
        except FilterError as exc:
            raise GraphError(400, "Request_UnsupportedQuery", f"Unsupported Query. {exc}") from exc
    skip = 0
    if q.get("$skiptoken"):
        try:
            skip = int(base64.urlsafe_b64decode(q["$skiptoken"].encode()).decode().removeprefix("skip:"))
        except ValueError as exc:
            raise GraphError(
                400,
                "Directory_ExpiredPageToken",
                "The specified page token value has expired and can no longer be included in your request.",
            ) from exc
    page = users[skip : skip + top]
    context = f"{call.base}/v1.0/$metadata#users" + (f"({','.join(select)})" if select else "")
    body: dict[str, Any] = {"@odata.context": context, "value": [_user_json(u, select) for u in page]}
    if skip + top < len(users):
        token = base64.urlsafe_b64encode(f"skip:{skip + top}".encode()).decode()
        params = {k: v for k, v in q.items() if k != "$skiptoken"} | {"$skiptoken": token}
        query = "&".join(f"{k}={quote(v, safe=chr(36) + chr(39) + '(),/:@')}" for k, v in params.items())
        body["@odata.nextLink"] = f"{call.base}/v1.0/users?{query}"
    return Result(200, body)


def list_domains(emu: Emulator, call: Call, t: DirTarget) -> Result:
    check_options(call.query, {"$select"})
    value = [
        {
            "authenticationType": "Managed",
            "availabilityStatus": None,
            "id": d.id,
            "isAdminManaged": True,
            "isDefault": d.is_default,
            "isInitial": d.is_initial,
            "isRoot": True,
            "isVerified": d.is_verified,
            "manufacturer": None,
            "model": None,
            "passwordNotificationWindowInDays": None,
            "passwordValidityPeriodInDays": None,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"],
            "state": None,
        }
        for d in t.tenant.domains
    ]
    return Result(200, {"@odata.context": f"{call.base}/v1.0/$metadata#domains", "value": value})
