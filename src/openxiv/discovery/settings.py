"""Settings of the discovery domain (`[discovery]` in openxiv.toml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class TrendingSettings(BaseModel):
    """score = (1 + likes + comment_weight * comments + review_weight * reviews)
    / (age_hours + age_offset_hours) ** gravity  -- see docs/discovery.md."""

    # Gentler than Hacker News (1.8 and 2 h): papers are read over days, so ten likes a day ago
    # should still beat none an hour ago, while a month-old item yields to a fresh one.
    gravity: float = Field(default=1.5, gt=0)
    age_offset_hours: float = Field(default=12.0, gt=0)
    comment_weight: float = Field(default=2.0, ge=0)
    review_weight: float = Field(default=0.5, ge=0)


class SmtpSettings(BaseModel):
    host: str = Field(default="", description="empty: digests are only written to the outbox")
    port: int = 587
    username: str = ""
    password: str = ""
    starttls: bool = True
    timeout_s: float = 30.0


class DigestSettings(BaseModel):
    outbox_dir: Path = Field(default=Path("var/digests"), description="where each digest's .eml is written")
    sender: str = "OpenXiv digests <digests@localhost>"
    max_items: int = Field(default=50, ge=1)
    smtp: SmtpSettings = SmtpSettings()


class DiscoverySettings(BaseModel):
    feed_size: int = Field(default=50, ge=1, le=500, description="items per RSS/Atom feed")
    oai_page_size: int = Field(default=100, ge=1, le=5000, description="records per OAI-PMH page")
    oai_admin_email: str = "admin@localhost"
    # The OAI identifier namespace (oai:<namespace>:<identifier>); empty: the base URL's host.
    oai_namespace: str = ""
    body_chars: int = Field(default=100_000, ge=0, description="full text kept for search, per item")
    trending: TrendingSettings = TrendingSettings()
    digests: DigestSettings = DigestSettings()
