"""Integrity services: scan a submission version, store its report once, read it back.

No web framework here; a router returns `get_report(...)` (an `IntegrityReport`) directly.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from openxiv.db import transaction
from openxiv.integrity.analysis import categories, decide, risk
from openxiv.integrity.scanner import scan_document, scan_text
from openxiv.integrity.schemas import Action, Finding, IntegrityReport, Judge
from openxiv.integrity.settings import IntegritySettings
from openxiv.models.integrity import IntegrityReportRecord
from openxiv.models.submissions import SubmissionVersion
from openxiv.storage.port import BlobStore

SOURCE_NAMES = {"markdown": "source.md", "latex": "source.tex"}


def get_report(session: Session, version_id: int) -> IntegrityReport | None:
    """The stored report of a submission version, or None when it has not been scanned."""
    record = session.scalar(
        select(IntegrityReportRecord).where(IntegrityReportRecord.version_id == version_id)
    )
    if record is None:
        return None
    stored = dict(record.report)
    # Reports stored before `action` existed were decided by `flagged` alone.
    stored.setdefault("action", Action.HOLD.value if stored.get("flagged") else Action.PASS.value)
    return IntegrityReport.model_validate(stored)


def version_text(version: SubmissionVersion) -> str:
    """Text of a version that reviewers read besides its files: title, abstract, proposal fields,
    response letter (and the extracted text when the version has no file)."""
    parts = [version.title or "", version.abstract or ""]
    for key, value in (version.proposal or {}).items():
        if isinstance(value, str) and value.strip():
            parts.append(f"{key.replace('_', ' ').title()}: {value}")
    if version.response_letter:
        parts.append(version.response_letter)
    if not version.pdf_sha256 and not version.source_sha256 and version.extracted_text:
        parts.append(version.extracted_text)
    return "\n\n".join(p for p in parts if p.strip())


def merge_reports(reports: list[tuple[str, IntegrityReport]], settings: IntegritySettings) -> IntegrityReport:
    """One report from the scans of a version's parts (PDF, source, text fields).

    Findings keep their part in `location` ("pdf:body", "source:line 12", "text:body"); the
    visible text is the PDF's when there is one, else the source's, else the text fields'.
    """
    if len(reports) == 1:
        return reports[0][1]
    findings: list[Finding] = []
    for part, report in reports:
        for f in report.findings:
            findings.append(f.model_copy(update={"location": f"{part}:{f.location}"}))
    findings.sort(key=lambda f: -f.score)
    score = risk(findings)
    action = decide(findings, settings)  # on all parts' findings together, as for one document
    primary = reports[0][1]
    timings: dict[str, float] = {}
    for part, report in reports:
        for key, value in report.timings.items():
            timings[f"{part}.{key}"] = value
    digest = hashlib.sha256("".join(r.sha256 for _, r in reports).encode()).hexdigest()
    return IntegrityReport(
        document_type="+".join(r.document_type for _, r in reports),
        sha256=digest,
        flagged=action == Action.HOLD,
        action=action,
        risk_score=score,
        threshold=settings.flag_threshold,
        categories=categories(findings),
        findings=findings,
        visible_text=primary.visible_text,
        page_count=sum(r.page_count for _, r in reports),
        char_count=sum(r.char_count for _, r in reports),
        judge_used=any(r.judge_used for _, r in reports),
        timings=timings,
    )


def scan_version(
    version: SubmissionVersion, blobs: BlobStore, settings: IntegritySettings, *, judge: Judge | None = None
) -> IntegrityReport:
    """Scan every part of a version. Raises `DocumentError` when a stored file cannot be read."""
    reports: list[tuple[str, IntegrityReport]] = []
    if version.pdf_sha256:
        reports.append(
            (
                "pdf",
                scan_document(
                    blobs.get(version.pdf_sha256), filename="paper.pdf", settings=settings, judge=judge
                ),
            )
        )
    if version.source_sha256:
        name = SOURCE_NAMES.get(version.source_format or "", "source.md")
        reports.append(
            (
                "source",
                scan_document(
                    blobs.get(version.source_sha256), filename=name, settings=settings, judge=judge
                ),
            )
        )
    text = version_text(version)
    if text or not reports:
        reports.append(("text", scan_text(text, settings=settings, judge=judge)))
    return merge_reports(reports, settings)


def save_report(
    factory: sessionmaker[Session], version: SubmissionVersion, report: IntegrityReport
) -> IntegrityReport:
    """Store the version's report in its own transaction unless one exists; returns the report of
    record (the stored one wins when two workers race)."""
    try:
        with transaction(factory) as session:
            existing = get_report(session, version.id)
            if existing is not None:
                return existing
            session.add(
                IntegrityReportRecord(
                    version_id=version.id,
                    submission_id=version.submission_id,
                    scanner_version=report.scanner_version,
                    flagged=report.flagged,
                    risk_score=report.risk_score,
                    categories=[c.value for c in report.categories],
                    report=report.model_dump(mode="json"),
                )
            )
    except IntegrityError:
        with factory() as session:
            existing = get_report(session, version.id)
        if existing is None:
            raise
        return existing
    return report
