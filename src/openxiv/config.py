"""One settings object for the whole process, read from `openxiv.toml` and `OPENXIV_*` variables.

Nested sections use a double underscore in environment variables, e.g.
`OPENXIV_STORAGE__ROOT=/srv/blobs`. The settings object is built once at start-up and passed
explicitly to whatever needs it; nothing reads the environment behind its back.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from openxiv.integrity.settings import IntegritySettings
from openxiv.literature.settings import LiteratureSettings
from openxiv.llm.settings import LLMSettings
from openxiv.review.settings import ReviewSettings

POLICY_VERSION = "2026-11"


class StorageSettings(BaseModel):
    backend: str = Field(default="local", description="'local' (directory) or 's3'")
    root: Path = Path("var/blobs")
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_prefix: str = "blobs/"


class UploadSettings(BaseModel):
    max_bytes: int = 50 * 1024 * 1024
    max_pdf_pages: int = 500


class QueueSettings(BaseModel):
    # "sqlite:///var/huey.db", "redis://127.0.0.1:6379/0" or "immediate" (run tasks inline, for tests)
    url: str = "sqlite:///var/huey.db"
    workers: int = 4


class RateLimitSettings(BaseModel):
    # requests per minute per API key (or per client address when anonymous)
    per_minute: int = 600
    burst: int = 120
    enabled: bool = True


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENXIV_", env_nested_delimiter="__", extra="ignore")

    database_url: str = "sqlite:///var/openxiv.db"
    secret_key: str = Field(
        default="dev-insecure-change-me", description="signs session cookies and CSRF tokens"
    )
    base_url: str = "http://127.0.0.1:8000"
    instance_name: str = "OpenXiv"
    policy_version: str = POLICY_VERSION
    db_pool_size: int = 20
    storage: StorageSettings = StorageSettings()
    uploads: UploadSettings = UploadSettings()
    queue: QueueSettings = QueueSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    llm: LLMSettings = LLMSettings()
    review: ReviewSettings = ReviewSettings()
    integrity: IntegritySettings = IntegritySettings()
    literature: LiteratureSettings = LiteratureSettings()

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
