"""Settings of the publishing domain (`[publishing]` in openxiv.toml): which DOI registrar, the
DOI prefix, and DataCite's address and credentials."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# One delay per retry after a failed registration: 8 attempts spread over about a day and a half.
DEFAULT_RETRY_SCHEDULE_S = (60.0, 300.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0, 24 * 3600.0)
# DataCite's test system; production is https://api.datacite.org.
DATACITE_TEST_URL = "https://api.test.datacite.org"


class PublishingSettings(BaseModel):
    """Owned by the publishing domain."""

    registrar: Literal["local", "datacite", "off"] = Field(
        default="local",
        description="local: DOIs under `prefix` recorded here, no network (10.5072 is the prefix "
        "reserved for tests: such DOIs never resolve); datacite: registered with DataCite's REST "
        "API; off: no DOIs",
    )
    prefix: str = Field(default="10.5072", pattern=r"^10\.\d{4,9}$", description="the DOI prefix")
    suffix_namespace: str = Field(
        default="openxiv",
        pattern=r"^[a-z0-9][a-z0-9._-]{0,39}$",
        description="first part of every suffix: PREFIX/NAMESPACE.YYMM.NNNNN (the item) and "
        "PREFIX/NAMESPACE.YYMM.NNNNNvN (a version)",
    )
    publisher: str = Field(default="", description="the publisher named in citations; empty: instance_name")
    datacite_url: str = Field(default=DATACITE_TEST_URL, description="DataCite REST API base URL")
    datacite_repository_id: str = Field(
        default="", description="DataCite repository (client) id, e.g. ABC.XYZ"
    )
    datacite_password: str = Field(default="", repr=False, description="the repository's password")
    timeout_s: float = Field(default=20.0, gt=0, le=120, description="per request to the registrar")
    retry_schedule_s: list[float] = Field(
        default=list(DEFAULT_RETRY_SCHEDULE_S),
        max_length=20,
        description="delay before each retry of a failed registration; after the last one the DOI "
        "is marked failed (`openxiv` retries it when asked, see docs/publishing.md)",
    )
