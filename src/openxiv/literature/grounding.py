"""Grounding a submission in the literature, for reviewers: the `LiteratureGrounder` implementation.

1. Queries: the title, the abstract, and up to three key-claim sentences.
2. External services (when online) are asked first with the title; what they return is stored
   in the local index. A failing service is skipped and the reason kept in `degraded`.
3. Each query is run on the local index (BM25, plus dense when enabled); the rankings are fused
   by reciprocal rank, then re-ranked by tf-idf cosine similarity to the submission's title and
   abstract, which is the `score` (0..1) shown to reviewers.
4. The submission's references are extracted; related records not cited above a similarity
   threshold are likely missing citations; the most similar records are closest prior work.

All text handed over (titles, passages) is untrusted: the review engine must delimit it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from openxiv.literature.connectors import ArxivAPI, SemanticScholar
from openxiv.literature.fusion import reciprocal_rank_fusion
from openxiv.literature.http import ExternalServiceError, ScholarlyClient
from openxiv.literature.importer import import_records
from openxiv.literature.index import Bm25Index, document_tokens
from openxiv.literature.port import Grounding, RelatedWork
from openxiv.literature.records import RecordIn, title_key
from openxiv.literature.references import extract_references
from openxiv.literature.service import get_index, load_records, ranked_ids, record_ids
from openxiv.literature.settings import LiteratureSettings
from openxiv.literature.text import best_passage, split_sentences, tokenize
from openxiv.models.literature import LiteratureRecord

_CLAIM_CUES = re.compile(
    r"\b(we (?:propose|present|introduce|show|demonstrate|find|prove|achieve|develop)|"
    r"our (?:method|approach|model|results?|framework)|outperform\w*|state[- ]of[- ]the[- ]art|novel)\b",
    re.IGNORECASE,
)
MAX_TEXT_FOR_CLAIMS = 20_000


def key_claims(abstract: str, text: str, limit: int = 3) -> list[str]:
    """Sentences that state what the work claims, the abstract's first."""
    claims: list[str] = []
    # Headings and reference lists carry no claims; paragraphs do.
    body = "\n".join(
        line
        for line in text[:MAX_TEXT_FOR_CLAIMS].splitlines()
        if not line.lstrip().startswith(("#", "[", "\\"))
    )
    for source in (abstract, body):
        for sentence in split_sentences(" ".join(source.split())):
            if _CLAIM_CUES.search(sentence) and 30 <= len(sentence) <= 600 and sentence not in claims:
                claims.append(sentence)
                if len(claims) >= limit:
                    return claims
    return claims


def build_queries(title: str, abstract: str, text: str) -> list[str]:
    queries = [title.strip(), abstract.strip()[:2000]]
    if not abstract.strip() and text.strip():
        queries.append(" ".join(text.split())[:2000])
    queries += key_claims(abstract, text)
    return [q for q in dict.fromkeys(queries) if q and tokenize(q)]


def _tfidf(tokens: list[str], idf: Callable[[str], float]) -> dict[str, float]:
    counts = Counter(tokens)
    return {term: (1 + math.log(count)) * idf(term) for term, count in counts.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(weight * b[term] for term, weight in a.items() if term in b)
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


class LocalFirstGrounder:
    """`LiteratureGrounder` backed by the local index, topped up by external services when online."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: LiteratureSettings,
        client: ScholarlyClient | None = None,
        read_factory: sessionmaker[Session] | None = None,
    ) -> None:
        self.session_factory = session_factory
        # Ranking and scoring read for seconds; on SQLite a write session would hold the write
        # lock all that time, so they read through a read-only session when one is given.
        self.read_factory = read_factory or session_factory
        self.settings = settings
        self.client = client

    def ground(self, *, title: str, abstract: str, text: str, k: int = 8) -> Grounding:
        queries = build_queries(title, abstract, text)
        degraded, answered = self._ask_external(title or abstract[:300])
        with self.read_factory() as session:
            index = get_index(session, self.settings)
            retrievers: list[str] = []
            rankings: list[list[int]] = []
            for query in queries:
                ranking, used, _terms, _notice = ranked_ids(session, self.settings, query, max(k * 3, 24))
                rankings.append([rid for rid, _ in ranking])
                retrievers = used
            fused = [rid for rid, _ in reciprocal_rank_fusion(rankings, self.settings.rrf_k)]
            records = load_records(session, fused[: max(k * 4, 40)])
            related = self._related(index, records, fused, title, abstract, text, queries, k)
        sources = [f"local-{name}" for name in retrievers] + answered
        missing = [
            r for r in related if not r.cited and r.score >= self.settings.missing_citation_min_similarity
        ]
        closest = [r for r in related if r.score >= self.settings.overlap_min_similarity][:3]
        return Grounding(
            related=related,
            missing_citations=missing,
            closest_prior_work=closest,
            sources=sources,
            degraded=degraded,
            queries=queries,
        )

    def _ask_external(self, query: str) -> tuple[str | None, list[str]]:
        """Search the external services, store what they return; (why something was skipped, who answered)."""
        if not self.settings.online:
            return (
                "external services are switched off (literature.online = false); used the local index only",
                [],
            )
        if self.client is None:
            return "no HTTP client configured for external services; used the local index only", []
        problems: list[str] = []
        answered: list[str] = []
        found: list[RecordIn] = []
        searches: list[tuple[str, Callable[[str, int], list[RecordIn]]]] = [
            ("semantic-scholar", SemanticScholar(self.client).search),
            ("arxiv", ArxivAPI(self.client).search),
        ]
        for label, run in searches:
            try:
                found += run(query, 10)
                answered.append(label)
            except ExternalServiceError as error:
                problems.append(f"{label} skipped ({error.reason})")
        if found:
            with self.session_factory() as session, session.begin():
                import_records(session, found, source_name="external search")
        if not problems:
            return None, answered
        tail = "; used the local index" + (" and the services that answered" if answered else " only")
        return "; ".join(problems) + tail, answered

    def _related(
        self,
        index: Bm25Index,
        records: dict[int, LiteratureRecord],
        fused: list[int],
        title: str,
        abstract: str,
        text: str,
        queries: list[str],
        k: int,
    ) -> list[RelatedWork]:
        own_key = title_key(title) if title.strip() else ""
        basis = abstract if abstract.strip() else text[:3000]
        submission = _tfidf(document_tokens(title, basis), index.idf)
        query_terms = {term for query in queries for term in tokenize(query)}
        references = extract_references(text)
        scored: list[tuple[float, int, LiteratureRecord]] = []
        for rank, rid in enumerate(fused):
            record = records.get(rid)
            if record is None:
                continue
            if record.source == "openxiv" and own_key and record.title_key == own_key:
                continue  # the submission itself, once published here
            vector = _tfidf(document_tokens(record.title, record.abstract), index.idf)
            scored.append((cosine(submission, vector), rank, record))
        scored.sort(key=lambda item: (-item[0], item[1]))
        related: list[RelatedWork] = []
        for similarity, _rank, record in scored[:k]:
            body = record.abstract or record.title
            related.append(
                RelatedWork(
                    title=record.title,
                    authors=list(record.authors or []),
                    year=record.year,
                    venue=record.venue,
                    ids=record_ids(record),
                    passage=best_passage(body, query_terms, index.idf),
                    score=round(similarity, 4),
                    cited=references.cites(record.title, record.arxiv_id, record.doi),
                )
            )
        return related
