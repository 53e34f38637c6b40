"""The gateway's app factory: the composition root, where every room's objects are built and
handed to one another (the desk to the conversation service, the channels' renderers to the
article editor), kept in ``app.state`` for the routes (``bot/web/deps.py``), and where errors
are answered (``bot/web/errors.py``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import __version__
from bot.accounts.agents import AgentDirectory, Role
from bot.accounts.audit import AuditLog
from bot.community import api as community_api
from bot.community.room import community_room
from bot.conversation.channel import PlatformChannel
from bot.conversation.delivery import Delivery
from bot.conversation.flows import FlowStore
from bot.conversation.outreach import ChannelOutreach
from bot.conversation.push import PushHub
from bot.conversation.rasa_client import RasaClient
from bot.conversation.service import ConversationService
from bot.conversation.services import CitizenService
from bot.conversation.store import open_store
from bot.conversation.webchat_sessions import WebchatSessions
from bot.dashboard import api as dashboard_api
from bot.dashboard.board import Dashboard
from bot.handoff import api as console
from bot.handoff.hub import ConsoleHub
from bot.handoff.requests import CitizenLimits
from bot.handoff.service import HandoffDesk
from bot.handoff.store import Handoff, HandoffStore
from bot.knowledge.articles import KnowledgeStore
from bot.knowledge.handoff_rules import HandoffRulesStore
from bot.listening import api as listening_api
from bot.listening.room import listening_room
from bot.ops.settings import Settings
from bot.satisfaction.service import SatisfactionService
from bot.satisfaction.store import SurveyStore
from bot.storage.bus import open_bus
from bot.storage.database import create_engine
from bot.tickets import api as tickets_api
from bot.tickets.room import tickets_room
from bot.web import errors
from bot.web.client_address import networks
from bot.web.deps import COOKIE, ConsoleError, ConsolePresence, require
from bot.web.errors import console_refusal, error_body
from bot.web.rate_limits import RateLimits
from bot.web.security_headers import SecurityHeaders
from bot.workbench import api as workbench
from bot.workbench.article_editor import KnowledgeEditor, Render
from bot.workbench.inbox import InboxStore
from bot.workbench.model_registry import ModelRegistry
from bot.workbench.training import MODELS
from bot.workbench.training_data import TrainingData
from bot.workbench.training_jobs import TrainingJobs
from connectors import messenger, twilio, webchat, whatsapp

logger = logging.getLogger(__name__)

#: Largest request body accepted (a web chat message of 4,096 characters is far below it).
MAX_BODY_BYTES = 64 * 1024
#: Meta batches several events in one webhook: up to 1 MiB there.
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
_LARGE_BODY_PATHS = ("/webhooks/messenger", "/webhooks/whatsapp")
#: An uploaded project zip (the training data and the knowledge base): administrators only.
UPLOAD_MAX_BODY_BYTES = 10 * 1024 * 1024
_UPLOAD_PATHS = ("/api/admin/project.zip",)


class RequestSizeLimit:
    """Refuse bodies over ``max_bytes`` with a JSON 413, declared or streamed.

    An upload (``PUT /api/admin/project.zip``) may be larger, but only from a signed-in
    administrator: anyone else gets 401/403 before a byte of the body is read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if scope["path"].startswith(_LARGE_BODY_PATHS):
            limit = max(limit, WEBHOOK_MAX_BODY_BYTES)
        if scope["path"].startswith(_UPLOAD_PATHS) and scope["method"] not in ("GET", "HEAD"):
            refusal = await _upload_refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            limit = max(limit, UPLOAD_MAX_BODY_BYTES)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send)
            return
        if declared is not None or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # A streamed body without a declared length: read it here, up to the limit.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: nothing to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(error_body("body_too_large"), status_code=413)
        await response(scope, receive, send)


async def _upload_refusal(scope: Scope) -> JSONResponse | None:
    """Why an upload may not send its body (None: an administrator's live session; the route
    checks the CSRF token)."""
    token = Request(scope).cookies.get(COOKIE)
    agents: AgentDirectory | None = getattr(scope["app"].state, "agents", None)
    session = await agents.session(token) if token and agents is not None else None
    try:
        if session is None:
            raise ConsoleError(401, "not_logged_in", "Inicia sesión para continuar.")
        require(session, Role.ADMIN)
    except ConsoleError as refused:
        return console_refusal(refused)
    return None


#: Channels whose platform calls a webhook (on when their credentials are set).
PLATFORM_CHANNELS = ("messenger", "whatsapp", "twilio")


def _platform_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, PlatformChannel]:
    channels: dict[str, PlatformChannel] = {}
    if settings.messenger_enabled:
        assert settings.meta_app_secret and settings.messenger_page_access_token
        channels["messenger"] = messenger.MessengerChannel(
            http,
            settings.graph_api_url,
            settings.messenger_page_access_token.get_secret_value(),
            settings.meta_app_secret.get_secret_value(),
        )
    if settings.whatsapp_enabled:
        assert settings.meta_app_secret and settings.whatsapp_access_token
        assert settings.whatsapp_phone_number_id
        channels["whatsapp"] = whatsapp.WhatsAppChannel(
            http,
            settings.graph_api_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token.get_secret_value(),
            settings.meta_app_secret.get_secret_value(),
            settings.whatsapp_template,
            settings.whatsapp_template_language,
        )
    if settings.twilio_enabled:
        assert settings.twilio_account_sid and settings.twilio_auth_token
        assert settings.twilio_whatsapp_from
        channels["twilio"] = twilio.TwilioChannel(
            http,
            settings.twilio_api_url,
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_whatsapp_from,
            settings.twilio_webhook_url,
        )
    return channels


def _preview_renderers() -> dict[str, Render]:
    """How Messenger and WhatsApp render an answer, for the article editor's previews (render
    only: no client, no credentials)."""
    messenger_channel = messenger.MessengerChannel(None, "", "", "")  # type: ignore[arg-type]
    whatsapp_channel = whatsapp.WhatsAppChannel(None, "", "", "", "")  # type: ignore[arg-type]
    return {"messenger": messenger_channel.render, "whatsapp": whatsapp_channel.render}


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """Build the gateway. ``transport`` replaces the network for tests of outbound calls."""
    settings = settings or Settings()
    # Validated now, so a bad article stops start-up with a message naming file and field.
    knowledge = KnowledgeStore(settings.knowledge_dir)
    handoff_rules = HandoffRulesStore(settings.handoff_dir, check_every=2.0)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await open_store(settings.database_url)
        http = httpx.AsyncClient(
            transport=transport,
            timeout=settings.rasa_timeout_seconds,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )
        rasa = RasaClient(
            http,
            settings.engine_urls,
            settings.rasa_token.get_secret_value(),
            settings.rasa_timeout_seconds,
        )
        app.state.http = http
        app.state.store = store
        app.state.rasa = rasa
        # The desk has its own connection pool on the same database (its writes are few).
        desk_engine = create_engine(settings.database_url)
        agents = AgentDirectory(desk_engine, dt.timedelta(hours=settings.console_session_hours))
        audit = AuditLog(desk_engine)
        desk = HandoffDesk(
            HandoffStore(desk_engine),
            agents,
            knowledge,
            handoff_rules,
            app.state.console_hub,
            rasa,
            limits=CitizenLimits(
                app.state.rate_limits,
                settings.limit_handoffs_per_conversation,
                settings.limit_callbacks_per_conversation,
            ),
            audit=audit,
        )
        await app.state.push.bus.start()  # before the desk: it hears the other gateways
        await desk.start()
        app.state.agents = agents
        app.state.audit = audit
        app.state.desk = desk
        presence: ConsolePresence = desk  # who is at the console: the desk keeps track
        app.state.presence = presence
        app.state.inbox = InboxStore(desk_engine)
        app.state.webchat_sessions = WebchatSessions(
            desk_engine, dt.timedelta(minutes=settings.session_idle_minutes)
        )
        app.state.knowledge_editor = KnowledgeEditor(
            desk_engine,
            settings.knowledge_dir,
            settings.knowledge_review_days,
            _preview_renderers(),
        )
        app.state.models = ModelRegistry(desk_engine, MODELS)
        app.state.training_jobs = TrainingJobs(
            desk_engine, app.state.models, settings.project_dir, rasa
        )
        await app.state.training_jobs.start()
        # The services the gateway runs in conversations, asked in this order (each room
        # builds its own; they reach citizens through the outreach, connected below).
        flows = FlowStore(desk_engine)
        app.state.flows = flows
        services: list[CitizenService] = []
        # [citizen services: built here]
        # Dashboard (bot/dashboard/): the figures of the console's «Tablero», read from the
        # tables above through an engine of its own (its reads never hold the desk's pool).
        dashboard_engine = create_engine(settings.database_url)
        app.state.dashboard = Dashboard(dashboard_engine, knowledge)
        # Listening (bot/listening/): the fanpage's comments from Messenger's webhook (feed),
        # stored once with topic and sentiment, flagged, answered from «Comentarios».
        listening = listening_room(desk_engine, rasa, http, settings)
        app.state.listening = listening
        app.state.page_feed = listening
        # Tickets (bot/tickets/): complaints, claims, suggestions and requests for public
        # information, taken in a short form, worked in the console's «Solicitudes», every
        # reply and status change told to the citizen (connected to the outreach below).
        tickets = tickets_room(desk_engine, flows, agents, audit, settings)
        app.state.tickets = tickets.desk
        services.append(tickets.service)
        # Community events (bot/community/): listed after the events' article, signed up for
        # in the chat, reminded the day before (its job, started below); proposed topics.
        community = community_room(desk_engine, flows, rasa.parse, app.state.rate_limits, settings)
        app.state.event_store = community.events
        app.state.event_proposals = community.proposals
        app.state.event_notices = community.notices
        app.state.event_reminders = community.reminders
        services.append(community.service)
        # Satisfaction survey (bot/satisfaction/): LAST of the services, so that the others'
        # buttons and forms go first. Asked once per session: after a goodbye (here), when
        # idle and after an agent closes a handoff (connected below).
        satisfaction = SatisfactionService(
            SurveyStore(desk_engine, dt.timedelta(minutes=settings.session_idle_minutes)),
            flows,
            knowledge,
            idle=dt.timedelta(minutes=settings.satisfaction_idle_minutes)
            if settings.satisfaction_idle_minutes
            else None,
            check_every=settings.satisfaction_check_seconds,
        )
        app.state.satisfaction = satisfaction
        services.append(satisfaction)
        app.state.conversations = ConversationService(
            store,
            rasa,
            knowledge,
            app.state.push,
            session_idle=dt.timedelta(minutes=settings.session_idle_minutes),
            desk=desk,
            services=tuple(services),
        )
        channels = _platform_channels(settings, http)
        app.state.delivery = Delivery(
            app.state.conversations,
            store,
            knowledge,
            channels,
            settings.outbox_max_attempts,
            settings.outbox_retry_seconds,
            lease_seconds=settings.outbox_lease_seconds,
            sweep_seconds=settings.outbox_sweep_seconds,
            gateway_id=f"{socket.gethostname()}:{settings.gateway_port}",
        )
        for name in PLATFORM_CHANNELS:
            if name in channels:
                logger.info("channel %s: on", name)
            else:
                logger.warning("channel %s: off (credentials missing)", name)
        await app.state.delivery.resume()

        outreach = ChannelOutreach(app.state.conversations, app.state.delivery)
        app.state.outreach = outreach

        async def deliver(handoff: Handoff, messages: list[dict[str, Any]], agent: bool) -> None:
            """Desk messages (agents' replies, queue notices) to the citizen's channel."""
            await outreach.send(
                handoff.conversation_id, handoff.channel, handoff.sender_id, messages, agent
            )

        desk.connect(deliver)
        # [citizen services: connected to the outreach, background jobs started]
        await listening.start()  # listening: comments stored while the engine was down
        # Tickets: their news to citizens (WhatsApp's template outside its window, when set).
        tickets.notices.connect(
            outreach,
            frozenset({"whatsapp"}) if settings.whatsapp_template else frozenset(),
            {n: c.human_agent_window for n, c in channels.items() if c.human_agent_window},
        )
        # Community events: notices (a freed place, a change, the reminder) and the reminders.
        community.notices.connect(outreach)
        await community.reminders.start()
        # Satisfaction survey: asked through the outreach when idle (its job) and after an
        # agent closes a handoff they attended.
        satisfaction.connect(outreach)

        async def survey_after_handoff(closed: Handoff) -> None:
            if closed.claimed_at is not None:
                await satisfaction.after_handoff(
                    closed.conversation_id, closed.channel, closed.sender_id, closed.id
                )

        desk.when_closed(survey_after_handoff)
        await satisfaction.start()
        try:
            yield
        finally:
            # [citizen services: stopped]
            await dashboard_engine.dispose()  # dashboard: its engine
            await listening.close()  # listening: analyses under way
            await tickets.notices.close()  # tickets' e-mails under way
            await community.reminders.close()  # community events' reminders
            await satisfaction.close()  # its idle job
            await desk.close()
            await app.state.push.bus.close()
            await app.state.training_jobs.close()
            await app.state.delivery.close()
            await http.aclose()
            await app.state.rate_limits.close()
            await store.close()
            await desk_engine.dispose()

    app = FastAPI(
        title="Asistente SUNAT – gateway",
        version=__version__,
        description="Channels in, Rasa for language, the knowledge base for answers.",
        lifespan=lifespan,
        # The map of every route, the admin API included: on in development, off in production
        # unless API_DOCS=true (then 404 like any unknown path).
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url="/redoc" if settings.docs_enabled else None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
    )
    app.state.settings = settings
    app.state.knowledge = knowledge
    bus = open_bus(settings.redis_url, settings.database_url)  # live state shared by gateways
    app.state.push = PushHub(bus)
    app.state.console_hub = ConsoleHub(bus)
    app.state.training_data = TrainingData(settings.project_dir)
    app.state.webchat = webchat.WebchatChannel(settings.webchat_max_message_chars)
    app.state.rate_limits = RateLimits(settings.redis_url)
    app.state.trusted_proxies = networks(settings.trusted_proxies)

    app.add_middleware(RequestSizeLimit)
    if settings.webchat_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.webchat_allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    # Outermost: every answer carries them, refusals of the middleware above included.
    app.add_middleware(
        SecurityHeaders,
        embedding_origins=settings.webchat_allowed_origins,
        https=settings.secure_cookies,
    )

    errors.install(app)

    @app.get("/health", tags=["operations"])
    async def health(request: Request) -> JSONResponse:
        """Whether Rasa, the action server and the database answer (503 naming what is down)."""
        rasa_ok, actions_ok, db_ok = await asyncio.gather(
            request.app.state.rasa.is_ready(),
            _actions_ready(request.app.state.http, settings.action_server_url),
            request.app.state.store.ping(),
        )
        components = {"rasa": rasa_ok, "action_server": actions_ok, "database": db_ok}
        down = [name for name, ok in components.items() if not ok]
        enabled = request.app.state.delivery.channels
        body: dict[str, Any] = {
            "status": "ok" if not down else "degraded",
            "components": {n: ("up" if ok else "down") for n, ok in components.items()},
            "down": down,
            "channels": {
                "webchat": "on",
                **{
                    n: "on" if n in enabled else "off (credentials missing)"
                    for n in PLATFORM_CHANNELS
                },
            },
        }
        # Under `python -m bot up` (the gateway's parent): the processes it had to restart.
        from bot.ops.supervisor import restarts_seen_by_parent

        if restarted := restarts_seen_by_parent(settings.gateway_port):
            body["restarts"] = restarted
        return JSONResponse(body, status_code=503 if down else 200)

    app.include_router(webchat.router)
    app.include_router(messenger.router)
    app.include_router(whatsapp.router)
    app.include_router(twilio.router)
    console.install(app)
    app.include_router(workbench.router)
    # [citizen services: routers]
    app.include_router(dashboard_api.router)  # dashboard: /api/dashboard
    app.include_router(listening_api.router)  # listening: /api/comments
    app.include_router(tickets_api.router)  # tickets: /api/tickets
    app.include_router(community_api.router)  # community events: /api/events

    @app.get("/admin", include_in_schema=False)
    async def admin_workbench() -> RedirectResponse:
        """Anyone: the workbench is the console's "Administración" tab (it asks to sign in)."""
        return RedirectResponse("/agent#admin", status_code=303)

    app.mount("/static", StaticFiles(directory=webchat.STATIC), name="static")
    app.mount("/agent/static", console.ConsoleFiles(directory=console.STATIC), name="console")
    return app


async def _actions_ready(http: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await http.get(f"{url}/health", timeout=3.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200
