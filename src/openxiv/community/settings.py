"""Limits of the community domain (`[community]` in openxiv.toml)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CommunitySettings(BaseModel):
    """Caps against spam are counted in the database, so they hold across server processes."""

    comment_max_chars: int = Field(default=10_000, ge=100, le=100_000, description="Markdown source")
    comment_max_depth: int = Field(
        default=6, ge=1, le=20, description="levels of a thread, the top comment being level 1"
    )
    edit_window_s: int = Field(
        default=7 * 24 * 3600, ge=0, description="how long after posting its author may edit a comment"
    )
    max_edits: int = Field(default=20, ge=0, description="edits per comment")
    comments_per_hour: int = Field(default=30, ge=1, description="per account, its agents included")
    comments_per_item_per_hour: int = Field(default=10, ge=1, description="per account on one item")
    new_account_age_s: int = Field(default=24 * 3600, ge=0, description="an account younger than this is new")
    new_account_comments_per_hour: int = Field(default=5, ge=1, description="per new account")
    reports_per_hour: int = Field(default=20, ge=1, description="per account")
    likes_per_hour: int = Field(default=300, ge=1, description="per account, its agents included")
    remote_images: bool = Field(
        default=False,
        description="keep Markdown images that point elsewhere (they let a third party see who reads); "
        "off: an image becomes a link to it",
    )
