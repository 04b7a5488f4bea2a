"""Application settings, read from the environment (and an optional `.env` file).

Every setting is documented in `.env.example`. Development defaults let the API start with no
configuration at all; `environment=production` refuses to start with a development secret.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"  # noqa: S105 - refused in production
DEV_HASH_KEY = "dev-only-identifier-hash-key-change-me-0123456789"
DEFAULT_SQLITE_URL = "sqlite+aiosqlite:///./data/ugoki.db"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    app_name: str = "ugoki-api"
    environment: Literal["development", "test", "staging", "production"] = "development"

    # Database
    database_url: str = DEFAULT_SQLITE_URL
    database_echo: bool = False
    # Per worker (PostgreSQL). Overflow connections are opened for a burst and closed when given
    # back, so under steady load beyond the pool they open and close all the time (measured: a
    # quarter fewer requests per second at 50 concurrent requests with 20 + 20). No overflow by
    # default: requests beyond the pool wait for a connection (up to 30 s, then 503).
    database_pool_size: int = Field(default=30, ge=1, le=200)
    database_max_overflow: int = Field(default=0, ge=0, le=200)
    migrate_on_startup: bool | None = None  # None: yes in development/test, never in production
    seed_on_startup: bool = True  # upsert the catalogues (achievements, workouts, recipes) at start-up

    # Security
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    identifier_hash_key: SecretStr = SecretStr(DEV_HASH_KEY)
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    # Catalogue lists (workouts, categories) kept in process; seeding in this process clears them.
    catalogue_cache_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # A refresh token presented again this soon after it was exchanged is taken for a race of the
    # same client (two taps, two app components refreshing at once): refused without ending the
    # session. Later reuse ends the whole session (token theft). 0 disables the grace.
    refresh_reuse_grace_seconds: int = Field(default=10, ge=0, le=300)
    # Fernet keys for health data at rest, newest first (see src/core/crypto.py).
    data_encryption_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    # OAuth providers (ID tokens verified against the provider's JWKS)
    google_client_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    google_issuers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["https://accounts.google.com", "accounts.google.com"]
    )
    apple_client_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    apple_jwks_url: str = "https://appleid.apple.com/auth/keys"
    apple_issuers: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["https://appleid.apple.com"])
    jwks_cache_seconds: int = Field(default=3600, ge=0)
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    # HTTP
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=10 * 1_048_576, ge=1024)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    expose_docs: bool | None = None  # None: /docs, /redoc and /openapi.json everywhere but production

    # File storage (avatars, original lab reports)
    storage_backend: Literal["local", "s3"] = "local"
    # Where clients fetch public objects (avatars). Unset: the API serves local files itself
    # (<request base URL>/api/v1/uploads/media/…); S3: {endpoint}/{bucket}/….
    storage_public_base_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "auto"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    max_avatar_bytes: int = Field(default=5 * 1_048_576, ge=1024)

    # Language model (coach, bloodwork parsing, research digests). "none": offline, deterministic.
    # "openai" is any OpenAI-compatible chat-completions API (OpenAI, Ollama, Groq, vLLM…) at
    # OPENAI_BASE_URL; bloodwork parsing uses only "anthropic".
    llm_provider: Literal["none", "anthropic", "openai"] = "none"
    anthropic_api_key: SecretStr | None = None
    llm_base_url: str = "https://api.anthropic.com"
    llm_model: str = "claude-sonnet-4-20250514"
    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_model: str = "gpt-4o-mini"

    # AI coach
    coach_model: str | None = None  # None: LLM_MODEL (anthropic) or OPENAI_MODEL (openai)
    coach_daily_messages_free: int = Field(default=10, ge=1, le=10_000)
    coach_daily_messages_premium: int = Field(default=50, ge=1, le=10_000)
    coach_judge_sample_rate: float = Field(default=0.1, ge=0, le=1)
    coach_compact_after_messages: int = Field(default=30, ge=6, le=1000)
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    bloodwork_parse_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    # Address space of the child process that reads an uploaded document (PDF/image libraries).
    document_reader_memory_mb: int = Field(default=256, ge=128, le=4096)

    # Research hub: PubMed E-utilities. Offline (the default) every answer comes from the stored
    # library and the papers fetched earlier; nothing is sent to NCBI.
    research_online: bool = False
    pubmed_base_url: str = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
    pubmed_tool: str = "ugoki-api"
    pubmed_email: str | None = None  # NCBI's contact address for this deployment
    ncbi_api_key: SecretStr | None = None  # raises the shared budget from 3 to 10 requests a second
    pubmed_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    pubmed_max_attempts: int = Field(default=3, ge=1, le=10)
    pubmed_backoff_seconds: float = Field(default=0.5, ge=0, le=30)
    research_cache_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    research_daily_searches: int = Field(default=15, ge=1, le=1000)
    research_digest_model: str = "claude-3-5-haiku-latest"  # with LLM_PROVIDER=anthropic

    # Rate limiting
    rate_limit_enabled: bool = True
    rate_limit_default: str = "200/minute"
    redis_url: str | None = None

    # Background delivery of outbox messages (push, email, LLM work after commit)
    outbox_enabled: bool = True
    outbox_poll_seconds: float = Field(default=5.0, gt=0)
    outbox_max_attempts: int = Field(default=8, ge=1)
    # False when separate worker processes (`python -m src.worker`) deliver instead of the API's.
    outbox_in_process: bool = True
    # How long a claimed message is reserved for its worker; after that (a crash, `kill -9`) another
    # worker may take it again.
    outbox_lease_seconds: int = Field(default=120, ge=5, le=3600)
    # Messages one dispatcher delivers at the same time.
    outbox_concurrency: int = Field(default=1, ge=1, le=64)

    # Notifications: push through Expo ("none": recorded in the database only, nothing leaves)
    push_provider: Literal["none", "expo"] = "none"
    expo_push_url: str = "https://exp.host/--/api/v2/push"
    expo_access_token: SecretStr | None = None
    expo_max_retries: int = Field(default=4, ge=0, le=10)
    expo_receipt_delay_seconds: int = Field(default=900, ge=0, le=86400)
    expo_backoff_seconds: float = Field(default=0.5, ge=0, le=60)  # first retry wait on 429/5xx, doubling
    # Email through SMTP (unset: the email channel is off), e.g. smtp://user:pass@host:587?starttls=true
    smtp_url: SecretStr | None = None
    smtp_from: str = "UGOKI <no-reply@ugoki.app>"
    # Celebrations (streaks, achievements, levels) older than this are dropped instead of sent late.
    notification_celebration_max_age_hours: float = Field(default=6.0, gt=0, le=24 * 30)
    # Push messages per person, category and hour (urgent ones excepted).
    notification_push_hourly_cap: int = Field(default=5, ge=1, le=100)

    # Webhooks to people's own endpoints (integrations module)
    # Allow plain http and private/loopback targets: local development and tests only.
    webhook_allow_private_targets: bool = False
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    # Event journal
    event_client_skew_seconds: int = Field(default=300, ge=0, le=3600)
    event_retention_days: int = Field(default=730, ge=30)

    # Fasting fair play
    fast_min_gap_minutes: int = Field(default=60, ge=0, le=24 * 60)
    fast_max_pause_minutes: int = Field(default=120, ge=1, le=24 * 60)
    fast_max_pauses: int = Field(default=3, ge=0, le=100)

    # Logging
    log_level: str = "INFO"
    log_json: bool = True
    # Successful, fast requests: one access-log line for every N (failed or slow ones: always).
    access_log_sample_every: int = Field(default=20, ge=1, le=1_000_000)
    # The polled read routes marked `@direct` answered without FastAPI's dependency solving
    # (src/direct.py); off, they take the ordinary path like every other route.
    direct_routes: bool = True
    # Requests of one worker at work at once (0: no limit); the others wait their turn in arrival
    # order (src/core/middleware.py, AdmissionMiddleware). A request stops counting after
    # REQUEST_HOLD_SECONDS (slow uploads, replies from outside services), and one that waited
    # REQUEST_QUEUE_SECONDS for its turn is answered 503.
    request_concurrency: int = Field(default=8, ge=0, le=10_000)
    request_hold_seconds: float = Field(default=0.25, gt=0, le=60)
    request_queue_seconds: float = Field(default=10.0, gt=0, le=300)

    data_dir: Path = Path("./data")

    @field_validator("data_encryption_keys", mode="before")
    @classmethod
    def _keys_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "google_client_ids",
        "google_issuers",
        "apple_client_ids",
        "apple_issuers",
        "cors_origins",
        "trusted_proxies",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.environment not in ("production", "staging"):
            return self
        problems: list[str] = []
        if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET or len(self.jwt_secret) < 32:
            problems.append("JWT_SECRET must be set to a random value of at least 32 characters")
        if self.identifier_hash_key.get_secret_value() == DEV_HASH_KEY or len(self.identifier_hash_key) < 32:
            problems.append("IDENTIFIER_HASH_KEY must be set to a random value of at least 32 characters")
        if not self.data_encryption_keys:
            problems.append("DATA_ENCRYPTION_KEYS must hold at least one Fernet key")
        if self.storage_backend == "s3" and not (
            self.s3_bucket and self.s3_endpoint_url and self.s3_access_key_id and self.s3_secret_access_key
        ):
            problems.append(
                "STORAGE_BACKEND=s3 needs S3_ENDPOINT_URL, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY"
            )
        if self.llm_provider == "anthropic" and not self.anthropic_api_key:
            problems.append("LLM_PROVIDER=anthropic needs ANTHROPIC_API_KEY")
        if self.research_online and not self.pubmed_email:
            problems.append("RESEARCH_ONLINE=true needs PUBMED_EMAIL (NCBI's contact address for this service)")
        if self.llm_provider == "openai" and not self.openai_api_key:
            problems.append("LLM_PROVIDER=openai needs OPENAI_API_KEY")
        if not self.cors_origins or "*" in self.cors_origins:
            problems.append("CORS_ORIGINS must list the allowed origins explicitly")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def should_migrate_on_startup(self) -> bool:
        if self.migrate_on_startup is not None:
            return self.migrate_on_startup and self.environment not in ("production", "staging")
        return self.environment in ("development", "test")

    def encryption_keys(self) -> list[str]:
        """Configured keys, else (development/test only) the generated development key."""
        if self.data_encryption_keys:
            return [key.get_secret_value() for key in self.data_encryption_keys]
        if self.is_production_like:  # pragma: no cover - refused by the validator above
            raise RuntimeError("DATA_ENCRYPTION_KEYS is required")
        from src.core.crypto import development_key

        return [development_key(self.data_dir)]

    @property
    def docs_enabled(self) -> bool:
        if self.expose_docs is not None:
            return self.expose_docs
        return not self.is_production_like

    @property
    def is_production_like(self) -> bool:
        return self.environment in ("production", "staging")


@lru_cache
def get_settings() -> Settings:
    return Settings()
