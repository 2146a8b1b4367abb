from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ServiceSettings(BaseModel):
    """Where one external scholarly service lives and how often we may call it."""

    base_url: str
    # Seconds between two requests; the defaults are the services' documented limits.
    min_interval_s: float
    enabled: bool = True


def _semantic_scholar() -> ServiceSettings:
    # Semantic Scholar: 1 request per second per API key (the shared anonymous pool is smaller still).
    return ServiceSettings(base_url="https://api.semanticscholar.org", min_interval_s=1.0)


def _arxiv() -> ServiceSettings:
    # arXiv API terms of use: no more than one request every three seconds.
    return ServiceSettings(base_url="https://export.arxiv.org", min_interval_s=3.0)


def _openalex() -> ServiceSettings:
    # OpenAlex: at most 10 requests per second (and 100,000 per day).
    return ServiceSettings(base_url="https://api.openalex.org", min_interval_s=0.1)


class LiteratureSettings(BaseModel):
    """Owned by the literature domain (local index and external connectors)."""

    enabled: bool = True
    index_dir: Path = Field(
        default=Path("var/literature-index"), description="on-disk BM25 (and dense) index"
    )
    # Records added since the last full build are scored from an in-memory segment; past this
    # many (or 10% of the main segment, whichever is larger) the main segment is rebuilt.
    delta_rebuild_threshold: int = 5000
    # A search checks the database for new or changed records at most this often (per process).
    index_refresh_interval_s: float = 1.0
    dense: bool = Field(default=False, description="fuse MiniLM embeddings with BM25 (extra 'embeddings')")
    rrf_k: int = 60
    max_query_chars: int = 20_000
    max_query_terms: int = 64
    import_batch_size: int = 1000
    # External services: off by default because the development machines have no network.
    online: bool = False
    http_timeout_s: float = 20.0
    cache_ttl_s: float = 24 * 3600.0
    max_retries: int = 3
    max_retry_after_s: float = 60.0
    user_agent: str = "OpenXiv/0.1 (+https://github.com/openxiv)"
    contact_email: str = ""  # sent to OpenAlex as `mailto` (its "polite pool")
    semantic_scholar_api_key: str = ""
    semantic_scholar: ServiceSettings = Field(default_factory=_semantic_scholar)
    arxiv: ServiceSettings = Field(default_factory=_arxiv)
    openalex: ServiceSettings = Field(default_factory=_openalex)
    # Grounding: how similar (tf-idf cosine of title + abstract, 0..1) a record must be to count as
    # a likely missing citation, or as close prior work that may overlap with the submission.
    missing_citation_min_similarity: float = 0.12
    overlap_min_similarity: float = 0.3
