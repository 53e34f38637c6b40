"""Settings, read from the environment (and ``.env``) only. ``.env.example`` lists them all."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{ROOT / 'var' / 'gateway.db'}"
#: Channel credentials held to the same standard as RASA_TOKEN in production.
_CHANNEL_SECRETS = (
    "meta_app_secret",
    "messenger_verify_token",
    "messenger_page_access_token",
    "whatsapp_verify_token",
    "whatsapp_access_token",
    "twilio_auth_token",
)
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "token", "xxx", "test"}


class Settings(BaseSettings):
    """Every setting of the gateway. Secrets have no default."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "development"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8000, ge=1, le=65535)

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Several Rasa engines the gateway spreads conversations over (comma list or "
        "JSON list; unset: RASA_URL alone)",
    )
    rasa_token: SecretStr = Field(description="Token of Rasa's HTTP API (rasa run --auth-token)")
    rasa_timeout_seconds: float = Field(15.0, gt=0)
    action_server_url: str = "http://127.0.0.1:5055"
    rasa_endpoints: str = Field(
        "endpoints.yml", description="Rasa endpoints file: endpoints.scale.yml for PostgreSQL+Redis"
    )

    database_url: str = DEFAULT_DATABASE_URL
    knowledge_dir: Path = ROOT / "data" / "knowledge"
    padron_database_url: str | None = Field(
        None,
        description="Where the padrón reducido del RUC is kept; default: next to DATABASE_URL "
        "(its own SQLite file padron.db, or the same PostgreSQL database)",
    )
    transparency_database_url: str | None = Field(
        None,
        description="Where SUNAT's budget execution figures are kept (make import-transparency); "
        "default: next to DATABASE_URL (its own SQLite file transparencia.db, or the same "
        "PostgreSQL database)",
    )

    session_idle_minutes: float = Field(
        60.0, gt=0, description="Idle time after which a conversation starts afresh (slots reset)"
    )
    # The satisfaction survey (bot/satisfaction/): once per conversation session.
    satisfaction_idle_minutes: float = Field(
        10.0,
        ge=0,
        description="Quiet time after the assistant's answer before the rating is asked "
        "(0: only after a goodbye or a handoff)",
    )
    satisfaction_check_seconds: float = Field(
        60.0, gt=0, description="How often idle conversations are looked for"
    )

    # The agents' console (/agent).
    console_session_hours: float = Field(
        8.0, gt=0, le=24 * 7, description="How long a console login lasts"
    )
    secure_cookies: bool = Field(
        False,
        description="Send the console's and the web chat's cookies over HTTPS only "
        "(required in production)",
    )
    knowledge_review_days: int = Field(
        365, gt=0, description="An article not reviewed for longer is flagged in the workbench"
    )
    deploy_max_f1_drop: float = Field(
        0.01, ge=0, le=1, description="Largest held-out macro-F1 drop a deploy accepts"
    )
    project_dir: Path = Field(
        ROOT, description="The Rasa project the workbench edits (data/nlu, domain.yml, …)"
    )
    handoff_dir: Path | None = Field(
        None, description="Handoff rules (data/handoff by default): topics, teams, hours"
    )

    # Meta (Messenger; WhatsApp Cloud API later). A channel without its credentials is off.
    meta_app_secret: SecretStr | None = Field(None, description="Signs Meta's webhooks")
    messenger_verify_token: SecretStr | None = None
    messenger_page_access_token: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_template: str | None = Field(
        None, description="Pre-approved template sent when the 24-hour window has closed"
    )
    whatsapp_template_language: str = "es"
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    # WhatsApp through Twilio. Off unless the three are set.
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_whatsapp_from: str | None = Field(None, description="e.g. whatsapp:+14155238886")
    twilio_api_url: str = "https://api.twilio.com"
    twilio_webhook_url: str | None = Field(
        None, description="The public URL set in Twilio's console (signatures are over it)"
    )
    #: Sending through a platform: attempts before giving up, first delay between them.
    outbox_max_attempts: int = Field(6, ge=1)
    outbox_retry_seconds: float = Field(2.0, gt=0)
    outbox_lease_seconds: float = Field(
        30.0, gt=0,
        description="A gateway's hold on a conversation it answers and sends for (renewed while "
        "it works): a stopped or killed gateway's conversations are taken over after it",
    )  # fmt: skip
    outbox_sweep_seconds: float = Field(
        3.0, gt=0,
        description="How often each gateway looks for due work whose lease is free or expired "
        "(replies whose backoff ended, a stopped gateway's conversations)",
    )  # fmt: skip

    webchat_max_message_chars: int = Field(4096, ge=1)
    webchat_allowed_origins: list[str] = Field(default_factory=list)
    webchat_api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Keys of server-to-server callers of the web chat API (they may pass sender)",
    )

    # Behind a reverse proxy: peers whose X-Forwarded-For is believed (addresses or networks).
    trusted_proxies: list[str] = Field(default_factory=list)
    # Shared state of several gateways (rate limits, the console's live updates, the web chat
    # push, presence: bot/storage/bus.py); unset: kept in this process's memory.
    redis_url: str | None = None
    # Rasa's events through RabbitMQ: endpoints.scale.yml's event_broker (Rasa gets these in its
    # environment) and `python -m bot consume-events`, which keeps the analytics tables current.
    event_broker_host: str = Field("127.0.0.1", description="RabbitMQ's host for Rasa's events")
    event_broker_port: int = Field(5672, ge=1, le=65535)
    event_broker_user: str = "guest"
    event_broker_password: SecretStr = Field(
        SecretStr("guest"), description="RabbitMQ's password (its guest account works on loopback "
        "only: set a real account for another host)"
    )  # fmt: skip
    event_broker_queue: str = Field(
        "rasa_events", description="The durable queue Rasa publishes its events to, read by "
        "the consumer (competing consumers when several run)"
    )  # fmt: skip
    event_broker_exchange: str = Field(
        "rasa-exchange", description="Rasa's fanout exchange the queue is bound to"
    )
    analytics_seen_days: int = Field(
        30, ge=1, le=3660, description="Days an event's key is kept, so that a redelivery in "
        "that time counts once"
    )  # fmt: skip
    # The OpenAPI page (/docs, /openapi.json). Unset: on in development, off in production.
    api_docs: bool | None = None

    # Limits on what anonymous callers create ("N/second|minute|hour|day"); over them: 429.
    limit_webchat_posts_per_session: str = "20/minute"
    limit_webchat_posts_per_address: str = "120/minute"
    limit_sessions_per_address: str = "30/hour"
    limit_handoffs_per_conversation: str = "3/hour"
    limit_callbacks_per_conversation: str = "3/day"
    limit_logins_per_address: str = "30/minute"
    limit_logins_per_account: str = "10/minute"
    # Open push streams (web chat SSE, console WebSocket) at once.
    max_streams_per_session: int = Field(3, ge=1)
    max_streams_per_address: int = Field(30, ge=1)

    # The supervisors' dashboard (bot/dashboard/): periods of days in Lima.
    dashboard_default_days: int = Field(
        30, ge=1, le=3660, description="Days shown when the dashboard is opened (up to today)"
    )
    dashboard_max_days: int = Field(
        366, ge=1, le=3660, description="Longest period the dashboard computes at once"
    )

    # Community events (bot/community/): the day-before reminder, proposed topics.
    event_reminder_hours_before: float = Field(
        24.0, gt=0, le=24 * 14, description="Citizens with a place are reminded once when the "
        "event starts within this many hours"
    )  # fmt: skip
    event_reminder_every_seconds: float = Field(
        300.0, gt=0, description="How often the gateway looks for reminders to send"
    )
    event_topic_min_confidence: float = Field(
        0.6, ge=0, le=1, description="A proposed topic is counted under the NLU's intent when "
        "it is this sure, else under its folded words"
    )  # fmt: skip
    limit_event_proposals_per_conversation: str = "5/day"

    # Tickets (bot/tickets/): complaints, claims, suggestions, information requests.
    tickets_dir: Path = Field(
        ROOT / "data" / "tickets", description="Kinds, deadlines, wording and holidays"
    )
    ticket_max_description_chars: int = Field(2000, ge=100, le=4000)
    tickets_per_conversation_per_day: int = Field(
        3, ge=1, le=100, description="Tickets one conversation may register a day (Lima time)"
    )
    # E-mail to citizens who gave an address (ticket news). Off unless SMTP_HOST and SMTP_FROM.
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = Field(None, description="e.g. Asistente SUNAT <no-responder@...>")
    smtp_starttls: bool = True

    # Listening on the fanpage (bot/listening/): comments from Messenger's webhook (feed field).
    listening_dir: Path = Field(
        ROOT / "data" / "listening", description="Which comments are flagged for staff"
    )
    listening_sentiment: bool = Field(
        True, description="Estimate comments' sentiment with the packaged Spanish model "
        "(loaded at the first comment: about 15 s, 600 MB for that moment)"
    )  # fmt: skip
    listening_retry_seconds: float = Field(
        60.0, gt=0, description="How often comments stored while the engine was down get their "
        "topic"
    )  # fmt: skip

    @property
    def smtp_enabled(self) -> bool:
        return bool(self.smtp_host and self.smtp_from)

    @property
    def messenger_enabled(self) -> bool:
        return all(
            s is not None and s.get_secret_value()
            for s in (
                self.meta_app_secret,
                self.messenger_verify_token,
                self.messenger_page_access_token,
            )
        )

    @property
    def whatsapp_enabled(self) -> bool:
        secrets = (self.meta_app_secret, self.whatsapp_verify_token, self.whatsapp_access_token)
        return bool(self.whatsapp_phone_number_id) and all(
            s is not None and s.get_secret_value() for s in secrets
        )

    @property
    def twilio_enabled(self) -> bool:
        token = self.twilio_auth_token.get_secret_value() if self.twilio_auth_token else ""
        return bool(self.twilio_account_sid and token and self.twilio_whatsapp_from)

    @property
    def event_broker_environ(self) -> dict[str, str]:
        """The ``EVENT_BROKER_*`` variables endpoints.scale.yml reads, as Rasa gets them."""
        return {
            "EVENT_BROKER_HOST": self.event_broker_host,
            "EVENT_BROKER_PORT": str(self.event_broker_port),
            "EVENT_BROKER_USER": self.event_broker_user,
            "EVENT_BROKER_PASSWORD": self.event_broker_password.get_secret_value(),
            "EVENT_BROKER_QUEUE": self.event_broker_queue,
            "EVENT_BROKER_EXCHANGE": self.event_broker_exchange,
        }

    @property
    def padron_url(self) -> str:
        return padron_url(self.database_url, self.padron_database_url)

    @property
    def transparency_url(self) -> str:
        return transparency_url(self.database_url, self.transparency_database_url)

    @property
    def engine_urls(self) -> list[str]:
        """The Rasa engines: RASA_URLS, else RASA_URL alone."""
        return self.rasa_urls or [self.rasa_url]

    @field_validator("rasa_urls", mode="before")
    @classmethod
    def _url_list(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [u for u in text.split(",") if u]
        return value

    @field_validator("rasa_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        return [cls._http_url(url.strip()) for url in value]

    @field_validator("rasa_url", "action_server_url", "graph_api_url", "twilio_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    @field_validator(
        "limit_webchat_posts_per_session",
        "limit_webchat_posts_per_address",
        "limit_sessions_per_address",
        "limit_handoffs_per_conversation",
        "limit_callbacks_per_conversation",
        "limit_logins_per_address",
        "limit_logins_per_account",
        "limit_event_proposals_per_conversation",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError as exc:
            raise ValueError("must read like 20/minute (second, minute, hour, day)") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        token = self.rasa_token.get_secret_value()
        if self.environment == "production" and (token.lower() in _PLACEHOLDERS or len(token) < 16):
            raise ValueError("RASA_TOKEN must be a real secret (16+ characters) in production")
        if not token:
            raise ValueError("RASA_TOKEN must not be empty")
        if self.environment == "production" and not self.secure_cookies:
            raise ValueError("SECURE_COOKIES must be true in production (serve it over HTTPS)")
        if self.environment == "production":
            for key in self.webchat_api_keys:
                if len(key.get_secret_value()) < 24:
                    raise ValueError("WEBCHAT_API_KEYS must be real secrets (24+ characters)")
            for name in _CHANNEL_SECRETS:
                secret = getattr(self, name)
                value = secret.get_secret_value() if secret is not None else None
                if value is not None and (value.lower() in _PLACEHOLDERS or len(value) < 16):
                    raise ValueError(f"{name.upper()} must be a real secret (16+ characters)")
        return self


def padron_url(
    database_url: str, padron_database_url: str | None = None, file_name: str = "padron.db"
) -> str:
    """The padrón's database: an SQLite file of its own (it is swapped whole on import) beside
    the gateway's, or the gateway's PostgreSQL database, unless set explicitly."""
    if padron_database_url:
        return padron_database_url
    scheme, _, rest = database_url.partition("://")
    if scheme.split("+", 1)[0] == "sqlite":
        gateway_db = Path(rest[1:] if rest.startswith("/") else rest)
        return f"sqlite:///{gateway_db.parent / file_name}"
    return database_url


def transparency_url(database_url: str, transparency_database_url: str | None = None) -> str:
    """SUNAT's budget figures: their own SQLite file transparencia.db beside the gateway's, or
    the gateway's PostgreSQL database, unless set explicitly."""
    return padron_url(database_url, transparency_database_url, "transparencia.db")
