"""What the embed, oEmbed and export routes share: who may read, which moment, which URL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from api.services.auth import bearer_token
from api.services.reading import PresentView, SnapshotView, TimelineView
from api.services.replicas import ReadSource, position_asked, standby_failed
from api.services.wiring import Services
from events.as_of import Axis
from events.errors import BadInput, DomainError, refuse_bad_text
from events.values import parse_instant


class ReadRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def public_url(request: Request) -> str:
    """Where readers reach this server: CHRONICLE_PUBLIC_URL behind a proxy, else the
    address the request came to."""
    configured = services_of(request).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


async def require_reader(request: Request) -> None:
    """Pages and exports are public unless the deployment requires a token to read."""
    services = services_of(request)
    if not services.settings.require_read_token:
        return
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            raise ReadRefused(401, "This deployment requires a token to read.")
        await services.tokens.principal(token)
    except DomainError as e:
        raise ReadRefused(401, e.message) from None


def checked_slug(slug: str) -> str:
    """A slug from a URL, refused (400) when no timeline could have it."""
    try:
        refuse_bad_text(slug=slug)
    except BadInput as e:
        raise ReadRefused(400, e.message) from None
    return slug


async def read_view(request: Request, slug: str) -> TimelineView:
    """The timeline now, or at ``?asOf=`` on ``?axis=`` (RECORDED by default)."""
    await require_reader(request)
    checked_slug(slug)
    services = services_of(request)
    as_of = request.query_params.get("asOf")
    if not as_of:
        source = services.replicas.primary if getattr(request.state, "on_primary", False) \
            else await services.replicas.for_read(_position_asked(request))
        request.state.read_source = source
        return PresentView(source.read_model, source.store, slug)
    try:
        moment = parse_instant(as_of, "asOf")
        raw_axis = request.query_params.get("axis", Axis.RECORDED.value)
        if raw_axis not in {a.value for a in Axis}:
            raise BadInput("axis must be RECORDED or REPORTED", field="axis")
    except BadInput as e:
        raise ReadRefused(400, e.message) from None
    return SnapshotView(await services.histories.get(slug), services.store, moment,
                        Axis(raw_axis))


async def view_or_refusal(request: Request, slug: str) -> TimelineView | Response:
    """``read_view``, or the plain-text answer to a read refused (for exports)."""
    try:
        return await read_view(request, slug)
    except ReadRefused as e:
        return PlainTextResponse(e.message, status_code=e.status)



def _position_asked(request: Request) -> int | None:
    """The least log position the reader must see (``Chronicle-Min-Position``, which the
    live embed sends when it refreshes after a change)."""
    try:
        return position_asked(request.headers.get("chronicle-min-position"))
    except BadInput as e:
        raise ReadRefused(400, e.message) from None


Handler = Callable[[Request], Awaitable[Response]]


def falling_back(handler: Handler) -> Handler:
    """``handler``, answered again from the primary when the standby it read from went
    away mid-read (api/services/replicas.py): a standby going down costs no page."""

    async def routed(request: Request) -> Response:
        try:
            return await handler(request)
        except Exception as e:
            source = getattr(request.state, "read_source", None)
            if source is None or source.primary or not standby_failed(e):
                raise
            await services_of(request).replicas.check_all()
            request.state.on_primary = True
            return await handler(request)

    return routed


def read_source_of(request: Request) -> ReadSource:
    """The database ``read_view`` chose for this request (the primary for the past)."""
    source: ReadSource | None = getattr(request.state, "read_source", None)
    return source if source is not None else services_of(request).replicas.primary
