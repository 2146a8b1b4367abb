"""One settings object for the whole process, read from `openxiv.toml` and `OPENXIV_*` variables.

Nested sections use a double underscore in environment variables, e.g.
`OPENXIV_STORAGE__ROOT=/srv/blobs`. The settings object is built once at start-up and passed
explicitly to whatever needs it; nothing reads the environment behind its back.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from openxiv.community.settings import CommunitySettings
from openxiv.discovery.settings import DiscoverySettings
from openxiv.events.settings import EventSettings
from openxiv.integrity.settings import IntegritySettings
from openxiv.literature.settings import LiteratureSettings
from openxiv.llm.settings import LLMSettings
from openxiv.publishing.settings import PublishingSettings
from openxiv.review.settings import ReviewSettings

POLICY_VERSION = "2026-11"
# `production` refuses to start with anything that is only safe on a laptop (a missing, short or
# published secret key; the random `test` LLM provider); `dev` and `demo` allow them.
Mode = Literal["production", "dev", "demo"]
MIN_SECRET_KEY_LENGTH = 32
# Secrets that were ever shipped or printed somewhere; never accepted in production.
PUBLISHED_SECRETS = frozenset({"dev-insecure-change-me", "change-me", "changeme", "secret"})


class StorageSettings(BaseModel):
    backend: str = Field(default="local", description="'local' (directory) or 's3'")
    root: Path = Path("var/blobs")
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_prefix: str = "blobs/"


class UploadSettings(BaseModel):
    max_bytes: int = 50 * 1024 * 1024
    max_pdf_pages: int = 500
    # New versions (first submissions and revisions) per owning account in any hour, all of its
    # keys and agents together; counted in the database, so it holds across server processes.
    # 0 switches the cap off.
    versions_per_hour: int = Field(default=60, ge=0)


class QueueSettings(BaseModel):
    # "sqlite:///var/huey.db", "redis://127.0.0.1:6379/0" or "immediate" (run tasks inline, for tests)
    url: str = "sqlite:///var/huey.db"
    workers: int = 4


class HttpSettings(BaseModel):
    """How one server process spends its cores on requests (docs/deployment.md, "Read path")."""

    # Threads that run the hot reads (an item, a listing). More threads than cores only add
    # contention: a handful keeps the cores and the database pool busy. Everything else, writes
    # included, runs on the server's general pool (40 threads), which must stay large: a write
    # holds its transaction while its response is validated on that pool.
    read_threads: int = Field(default=4, ge=1, le=200)
    # On SQLite under WAL, run those reads on the event loop instead: a read there never waits for
    # a writer, and the hand-off to a thread costs as much as the read (db.make_hot_reader).
    # Turn it off when the database file sits on a slow disk whose reads could hold up the loop.
    reads_on_loop: bool = True
    # Public responses kept in memory per process (0 turns the cache off) and the longest any is
    # kept; changes that record an event evict sooner (within `events.stream_poll_interval_s`).
    cache_entries: int = Field(default=10_000, ge=0)
    cache_ttl_s: float = Field(default=60.0, gt=0)
    # What a shared cache (CDN, reverse proxy) may keep a public page or JSON before revalidating.
    public_max_age_s: int = Field(default=30, ge=0)
    # Freeze the objects alive after start-up out of the garbage collector's reach: collections
    # then scan only what requests allocate (shorter pauses in the tail latency).
    freeze_gc: bool = True


class RateLimitSettings(BaseModel):
    # requests per minute per API key (or per client address when anonymous)
    per_minute: int = 600
    burst: int = 120
    # requests per minute per owning account: all of its keys, agents and sessions together
    owner_per_minute: int = Field(default=1800, ge=1)
    owner_burst: int = Field(default=360, ge=1)
    # Where the buckets live: empty keeps them in each server process (the limits then hold per
    # process); a Redis URL shares them between every process and host using it.
    redis_url: str = ""
    enabled: bool = True  # also switches the password and registration throttles below
    # Wrong passwords per account and per client address before lockouts start (30 s, doubling
    # with each further failure, at most an hour).
    login_free_attempts: int = Field(default=5, ge=1)
    # Account creations per client address before the same backoff applies.
    registrations_per_address: int = Field(default=20, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENXIV_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///var/openxiv.db"
    mode: Mode = Field(
        default="production",
        description="production (the default) refuses unsafe settings at start-up; dev and demo allow them",
    )
    secret_key: str = Field(
        default="",
        description=f"signs session cookies and CSRF tokens; at least {MIN_SECRET_KEY_LENGTH} characters. "
        "Empty: read from secret_key_file (which `openxiv secret` creates)",
    )
    secret_key_file: Path = Path("var/secret_key")
    base_url: str = "http://127.0.0.1:8000"
    instance_name: str = "OpenXiv"
    policy_version: str = POLICY_VERSION
    db_pool_size: int = 20
    http: HttpSettings = HttpSettings()
    storage: StorageSettings = StorageSettings()
    uploads: UploadSettings = UploadSettings()
    queue: QueueSettings = QueueSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    llm: LLMSettings = LLMSettings()
    review: ReviewSettings = ReviewSettings()
    integrity: IntegritySettings = IntegritySettings()
    literature: LiteratureSettings = LiteratureSettings()
    publishing: PublishingSettings = PublishingSettings()
    events: EventSettings = EventSettings()
    discovery: DiscoverySettings = DiscoverySettings()
    community: CommunitySettings = CommunitySettings()
    # Only the `openxiv eval` commands read this: their default `--data` folder (OPENXIV_EVAL_DATA).
    eval_data: str = Field(default="", description="the ICLR 2022 evaluation set; empty: ../shared/data")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the file named by OPENXIV_CONFIG, else ./openxiv.toml when it exists."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = Path(os.environ.get("OPENXIV_CONFIG", "openxiv.toml"))
        self._data: dict[str, Any] = tomllib.loads(path.read_text("utf-8")) if path.is_file() else {}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


class ConfigError(ValueError):
    """The settings are not safe (or not complete) for what the process is asked to do."""


def write_secret_key_file(path: Path) -> bool:
    """Create `path` holding a new random secret (owner-readable only) unless it exists. Returns
    whether it was created."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: several processes starting at once agree on one key,
    # and none reads a half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        return False
    finally:
        draft.unlink()
    return True


def resolve_secret_key(settings: Settings) -> str:
    """The key that signs sessions: `secret_key`, else the contents of `secret_key_file`. In dev and
    demo mode a missing file is created; in production a missing, short or published key refuses
    to start, because anyone who knows the key can sign a session cookie for any account."""
    key = settings.secret_key
    if not key:
        path = settings.secret_key_file
        if settings.mode != "production":
            write_secret_key_file(path)
        if not path.is_file():
            raise ConfigError(
                f"no secret key: set OPENXIV_SECRET_KEY (at least {MIN_SECRET_KEY_LENGTH} random "
                f"characters) or create {path} with `openxiv secret`"
            )
        key = path.read_text("utf-8").strip()
    if settings.mode == "production":
        if key in PUBLISHED_SECRETS:
            raise ConfigError("the secret key is a published default; set a random one (`openxiv secret`)")
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(
                f"the secret key has {len(key)} characters; production needs at least "
                f"{MIN_SECRET_KEY_LENGTH} (or set mode = 'dev' on a development machine)"
            )
    return key


def check_production_safety(settings: Settings) -> None:
    """What a server or worker must refuse outside dev/demo mode, besides the secret key."""
    if settings.mode != "production":
        return
    fake = sorted(name for name, alias in settings.llm.models.items() if alias.provider == "test")
    if fake:
        raise ConfigError(
            f"model alias(es) {', '.join(fake)} use the 'test' provider, which answers at random; "
            "it is refused in production (set mode = 'dev' for tests)"
        )
