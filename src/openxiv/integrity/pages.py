"""Browser view of screening: a PDF page as an image with the findings outlined, for the
moderation queue and the item's owner. Whoever may see the version may see its report (as the
integrity API rules), and so this image."""

from __future__ import annotations

from fastapi import APIRouter, Response

from openxiv.errors import NotFound
from openxiv.http.deps import ReadSession
from openxiv.integrity.page_image import highlighted_page
from openxiv.integrity.service import get_report
from openxiv.submissions import service
from openxiv.submissions.deps import BlobsDep, RequestedVersion

router = APIRouter(include_in_schema=False)


@router.get("/abs/{identifier}/integrity/page/{page}.png")
def page_image(found: RequestedVersion, page: int, session: ReadSession, blobs: BlobsDep) -> Response:
    report = get_report(session, found.version.id)
    if report is None:
        raise NotFound(f"{found.identifier} has not been scanned (yet)")
    blob, _ = service.get_blob_for_download(session, found, "pdf")
    image = highlighted_page(blobs.get(blob.sha256), page, report.findings)
    # The picture shows what screening suspects: never kept by a shared cache.
    return Response(image, media_type="image/png", headers={"Cache-Control": "private, no-store"})
