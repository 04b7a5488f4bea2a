"""Direct dispatch of the polled read routes.

The app polls a few GET routes (the running fast, the home card, who am I) far more often than
anything else. FastAPI answers a route by solving its dependency graph on every request, and for
these routes that costs more CPU than their database read. A route marked `@direct` is answered
by `DirectRoutes` (pure ASGI, inside the request-id, CORS and body-limit middleware) with the same
steps its dependencies would take, in the same order:

1. a valid access token (signature, issuer, expiry) and the query parameters, validated by the
   route's own fields;
2. the route's rate limit, keyed by the caller as `enforce_rate_limit` keys it;
3. a read-only unit of work whose hot reads run on a driver connection (`DriverReads`: a pooled
   asyncpg connection, or the process's read-only SQLite connection), and in it the caller whose
   session is live (`principal_of`: the principal cache, which revocations clear, else a lookup;
   401 once the session has ended);
4. the endpoint, given the unit of work and the caller; its result is validated and serialised by
   the route's response field, as FastAPI would.

Anything else goes down the ordinary path, which answers it as for every other route: no token, a
personal access token, a token that does not verify (401), a missing or invalid parameter (422),
HEAD. Nothing has been counted or read by then. Errors raised from step 2 on (429, 401, the
endpoint's own) are answered by the app's exception handlers. A marked route may depend only on the
unit of work, the caller and the app-wide checks, and have no path, header, cookie or body
parameters: `install_direct_routes` refuses anything else when the app is built. The OpenAPI
document is FastAPI's, unchanged.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi._compat.shared import field_annotation_is_scalar
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import (
    APIRoute,
    RouteContext,
    _EffectiveRouteContext,
    _IncludedRouter,
    iter_route_contexts,
    serialize_response,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from src.core.rate_limit import keyed_by_ip
from src.core.scopes import is_personal_token
from src.core.security import TokenError
from src.dependencies import (
    bearer_token,
    check_personal_token,
    current_principal,
    enforce_rate_limit,
    principal_of,
    unit_of_work,
    unit_of_work_in,
)

DIRECT_MARK = "__ugoki_direct__"

# The only dependencies a direct route may have: the app-wide checks, the unit of work, the caller.
_APP_WIDE = (enforce_rate_limit, check_personal_token)
_ALLOWED = (*_APP_WIDE, unit_of_work, current_principal)


def direct[Endpoint: Callable[..., Any]](endpoint: Endpoint) -> Endpoint:
    """Mark a polled GET route to be answered by `DirectRoutes` (put it below `@router.get`)."""
    setattr(endpoint, DIRECT_MARK, True)
    return endpoint


class NotDirectable(RuntimeError):
    """A route marked `@direct` has something the direct path does not do."""


@dataclass(frozen=True, slots=True)
class _Plan:
    route: APIRoute  # what the ordinary path puts in the scope (rate limit key, access log)
    context: Any  # FastAPI's effective route (full path, response field, dependencies)
    call: Callable[..., Awaitable[Any]]
    uow_name: str
    caller_name: str
    query: tuple[Any, ...]  # FastAPI's ModelField of each query parameter
    status: int


def _plan(context: RouteContext) -> _Plan:
    route = context.original_route
    assert isinstance(route, APIRoute)  # noqa: S101 - only API routes are planned
    dependant = context.dependant
    where = f"{sorted(context.methods or ())} {context.path}"

    def refuse(reason: str) -> NotDirectable:
        return NotDirectable(f"{where} cannot be answered directly: {reason}")

    if context.methods != {"GET"}:
        raise refuse("only GET routes can be")
    if dependant.path_params or dependant.header_params or dependant.cookie_params or dependant.body_params:
        raise refuse("it has path, header, cookie or body parameters")
    special = (
        dependant.request_param_name,
        dependant.websocket_param_name,
        dependant.http_connection_param_name,
        dependant.response_param_name,
        dependant.background_tasks_param_name,
        dependant.security_scopes_param_name,
    )
    if any(special):
        raise refuse("it takes the request, response or background tasks")
    if keyed_by_ip(route):
        raise refuse("its rate limit is keyed by client address")
    if not isinstance(context.response_class, DefaultPlaceholder):
        raise refuse("it has its own response class")
    if not inspect.iscoroutinefunction(dependant.call):
        raise refuse("its endpoint is not a coroutine function")
    uow_name = caller_name = None
    for dependency in dependant.dependencies:
        if dependency.call not in _ALLOWED or dependency.query_params:
            raise refuse(f"it depends on {getattr(dependency.call, '__name__', dependency.call)!r}")
        if dependency.call is unit_of_work and dependency.name:
            uow_name = dependency.name
        elif dependency.call is current_principal and dependency.name:
            caller_name = dependency.name
    if uow_name is None or caller_name is None:
        raise refuse("it must take the unit of work and the signed-in caller")
    for field in dependant.query_params:
        if not field_annotation_is_scalar(field.field_info.annotation):
            raise refuse(f"its query parameter {field.alias!r} takes several values")
    return _Plan(
        route=route,
        context=context,
        call=dependant.call,
        uow_name=uow_name,
        caller_name=caller_name,
        query=tuple(dependant.query_params),
        status=context.status_code or 200,
    )


def install_direct_routes(app: FastAPI, *, enabled: bool = True) -> None:
    """Plan every route marked `@direct` (refusing one that cannot be answered directly) and put
    `DirectRoutes` innermost of the app's middleware: call before adding the others."""
    plans: dict[str, _Plan] = {}
    for context in _marked_route_contexts(app.routes, None):
        plans[str(context.path)] = _plan(context)
    if enabled and plans:
        app.add_middleware(DirectRoutes, plans=plans, fastapi_app=app)


def _marked_route_contexts(routes: Sequence[Any], include_context: Any) -> Iterator[Any]:
    """FastAPI's effective route (full path, every dependency) of each route marked `@direct`,
    built for those routes alone: building them for every route of the app would cost a third of
    a second per app."""
    for route in routes:
        if isinstance(route, _IncludedRouter):
            inner = route.include_context if include_context is None else include_context.combine(route.include_context)
            yield from _marked_route_contexts(route.original_router.routes, inner)
        elif isinstance(route, APIRoute) and getattr(route.endpoint, DIRECT_MARK, False):
            if include_context is None:
                yield from iter_route_contexts([route])
            else:
                effective = _EffectiveRouteContext.from_api_route(original_route=route, include_context=include_context)
                yield RouteContext(route, effective)


class DirectRoutes:
    def __init__(self, app: ASGIApp, *, plans: Mapping[str, _Plan], fastapi_app: FastAPI) -> None:
        self.app = app
        self.plans = dict(plans)
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            plan = self.plans.get(scope["path"])
            if plan is not None and not self.fastapi_app.dependency_overrides:
                if await self._answer(plan, scope, receive, send):
                    return
        await self.app(scope, receive, send)

    async def _answer(self, plan: _Plan, scope: Scope, receive: Receive, send: Send) -> bool:
        """Answer the request and return True, or return False (having done nothing) to leave it
        to the ordinary path."""
        state = self.fastapi_app.state
        resources = state.resources
        token = _bearer_token(scope)
        if token is None or is_personal_token(token):
            return False
        try:
            claims = resources.tokens.decode_access(token, now=resources.clock.now())
        except TokenError:
            return False
        arguments = _query_arguments(plan, scope)
        if arguments is None:
            return False

        scope["route"] = plan.route
        request_state = scope.setdefault("state", {})
        try:
            limiter = state.rate_limiter
            if limiter.enabled:
                await limiter.check(route=plan.route, method="GET", subject=f"user:{claims.identity_id}")
            async with unit_of_work_in(state, write=False, driver_reads=True) as uow:
                caller = await principal_of(uow, claims)
                request_state["identity_id"] = caller.identity_id
                arguments[plan.uow_name] = uow
                arguments[plan.caller_name] = caller
                result = await plan.call(**arguments)
            if isinstance(result, Response):
                await result(scope, receive, send)
                return True
            route = plan.context
            body = await serialize_response(
                field=route.response_field,
                response_content=result,
                include=route.response_model_include,
                exclude=route.response_model_exclude,
                by_alias=route.response_model_by_alias,
                exclude_unset=route.response_model_exclude_unset,
                exclude_defaults=route.response_model_exclude_defaults,
                exclude_none=route.response_model_exclude_none,
                dump_json=True,
            )
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None:
                raise  # the server-error middleware answers 500 (and logs it)
            response = handler(Request(scope, receive), exc)
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return True
        await send(
            {
                "type": "http.response.start",
                "status": plan.status,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True

    def _handler_for(self, exc: Exception) -> Callable[..., Any] | None:
        """The app's handler for this exception, found as Starlette's exception middleware finds
        it (most specific class first); None for the catch-all, which is the server error's."""
        handlers = self.fastapi_app.exception_handlers
        for cls in type(exc).__mro__:
            if cls is Exception:
                return None
            if cls in handlers:
                return handlers[cls]
        return None


def _bearer_token(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"authorization":  # the first, as Starlette's headers give it
            return bearer_token(value.decode("latin-1"))
    return None


def _query_arguments(plan: _Plan, scope: Scope) -> dict[str, Any] | None:
    """The endpoint's query arguments as FastAPI would pass them, or None when a parameter is
    missing or invalid (the ordinary path answers 422)."""
    arguments: dict[str, Any] = {}
    if not plan.query:
        return arguments
    raw = scope.get("query_string", b"")
    given = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)) if raw else {}
    for field in plan.query:
        if field.alias in given:
            value, errors = field.validate(given[field.alias], {}, loc=("query", field.alias))
            if errors:
                return None
        elif field.field_info.is_required():
            return None
        else:
            value = field.get_default()
        arguments[field.name] = value
    return arguments
