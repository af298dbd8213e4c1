"""Admin API for groups and Exchange's RBAC for Applications (``/_emulator/tenants/{tid}/...``).

What an Azure AD administrator does to groups and what an Exchange administrator's cmdlets do
(``New-ServicePrincipal``, ``New-ManagementScope``, ``New-ManagementRoleAssignment``,
``Test-ServicePrincipalAuthorization`` and their ``Remove-`` twins), as JSON: the bodies use the
cmdlets' parameter names. The model and its sources are in :mod:`emulator.rbac`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .admin import _emu, _json, _r, _tenant
from .rbac import Rbac
from .state import Tenant


def _rbac(request: Request) -> tuple[Tenant, Rbac]:
    tenant = _tenant(request)
    return tenant, _emu(request).rbac(tenant.id)


async def create_group(request: Request) -> Any:
    """``{"displayName", "mailNickname"?, "kind"?, "members"?: [user id, UPN or group id]}`` → 201 group."""
    tenant, rbac = _rbac(request)
    return JSONResponse(rbac.add_group(tenant, await _json(request), datetime.now(UTC)).view(), 201)


async def list_groups(request: Request) -> Any:
    _, rbac = _rbac(request)
    return {"groups": [g.view() for g in rbac.groups.values()]}


async def add_member(request: Request) -> Any:
    """``{"member": user id, UPN or group id}`` → the group (a direct member)."""
    tenant, rbac = _rbac(request)
    return rbac.add_member(tenant, request.path_params["gid"], (await _json(request)).get("member")).view()


async def remove_member(request: Request) -> Any:
    tenant, rbac = _rbac(request)
    return rbac.remove_member(tenant, request.path_params["gid"], request.path_params["member"]).view()


async def exchange(request: Request) -> Any:
    """Everything Exchange holds for apps in this tenant: pointers, scopes, assignments."""
    return _rbac(request)[1].view()


async def new_service_principal(request: Request) -> Any:
    """``New-ServicePrincipal``: ``{"AppId", "ObjectId", "DisplayName"?}`` → 201."""
    tenant, rbac = _rbac(request)
    return JSONResponse(rbac.new_pointer(tenant, await _json(request)).view(), 201)


async def remove_service_principal(request: Request) -> Any:
    _rbac(request)[1].remove_pointer(request.path_params["identity"])
    return Response(status_code=204)


async def new_management_scope(request: Request) -> Any:
    """``New-ManagementScope``: ``{"Name", "RecipientRestrictionFilter"}`` → 201."""
    return JSONResponse(_rbac(request)[1].new_scope(await _json(request)).view(), 201)


async def remove_management_scope(request: Request) -> Any:
    _rbac(request)[1].remove_scope(request.path_params["name"])
    return Response(status_code=204)


async def new_role_assignment(request: Request) -> Any:
    """``New-ManagementRoleAssignment``: ``{"Name"?, "Role", "App", "CustomResourceScope"? |
    "RecipientGroupScope"?}`` → 201."""
    return JSONResponse(_rbac(request)[1].new_assignment(await _json(request)).view(), 201)


async def remove_role_assignment(request: Request) -> Any:
    _rbac(request)[1].remove_assignment(request.path_params["name"])
    return Response(status_code=204)


async def test_authorization(request: Request) -> Any:
    """``Test-ServicePrincipalAuthorization -Identity <id> [-Resource <mailbox>]`` → ``{"results": [...]}``."""
    tenant, rbac = _rbac(request)
    return {"results": rbac.test(tenant, request.path_params["identity"], request.query_params.get("resource"))}


routes = [
    _r("/tenants/{tid}/groups", create_group, ["POST"]),
    _r("/tenants/{tid}/groups", list_groups, ["GET"]),
    _r("/tenants/{tid}/groups/{gid}/members", add_member, ["POST"]),
    _r("/tenants/{tid}/groups/{gid}/members/{member}", remove_member, ["DELETE"]),
    _r("/tenants/{tid}/exchange", exchange, ["GET"]),
    _r("/tenants/{tid}/exchange/service-principals", new_service_principal, ["POST"]),
    _r("/tenants/{tid}/exchange/service-principals/{identity}", remove_service_principal, ["DELETE"]),
    _r("/tenants/{tid}/exchange/service-principals/{identity}/authorization", test_authorization, ["GET"]),
    _r("/tenants/{tid}/exchange/management-scopes", new_management_scope, ["POST"]),
    _r("/tenants/{tid}/exchange/management-scopes/{name}", remove_management_scope, ["DELETE"]),
    _r("/tenants/{tid}/exchange/role-assignments", new_role_assignment, ["POST"]),
    _r("/tenants/{tid}/exchange/role-assignments/{name}", remove_role_assignment, ["DELETE"]),
]
