"""A page of a PDF as a PNG with the screening findings outlined where their text sits, so a
moderator sees what a reader of the page would (usually nothing) and where the hidden text is."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pypdfium2 as pdfium
from PIL import ImageDraw

from openxiv.errors import InvalidInput
from openxiv.integrity.schemas import Finding

# 1.5 px per PDF point: legible text without megabyte images.
SCALE = 1.5
OUTLINE = (220, 30, 30)
# Off-page boxes are drawn at the page edge, so a moderator sees that something is there.
MARGIN = 2


def highlighted_page(
    pdf: bytes, page_number: int, findings: Sequence[Finding], *, scale: float = SCALE
) -> bytes:
    """PNG of the 1-based page, each finding's box outlined and numbered in list order."""
    document = pdfium.PdfDocument(pdf)
    try:
        if not 1 <= page_number <= len(document):
            raise InvalidInput(f"the document has {len(document)} pages", field="page")
        page = document[page_number - 1]
        left, _bottom, _right, top = page.get_cropbox()
        image = page.render(scale=scale).to_pil().convert("RGB")
    finally:
        document.close()
    draw = ImageDraw.Draw(image)
    width, height = image.size
    for number, finding in enumerate(findings, start=1):
        if finding.page != page_number or not finding.box:
            continue
        x0, y0, x1, y1 = finding.box
        # PDF points from the bottom-left of the crop box to pixels from the top-left.
        box = [
            (min(x0, x1) - left) * scale,
            (top - max(y0, y1)) * scale,
            (max(x0, x1) - left) * scale,
            (top - min(y0, y1)) * scale,
        ]
        box = [
            min(max(box[0], MARGIN), width - MARGIN),
            min(max(box[1], MARGIN), height - MARGIN),
            min(max(box[2], MARGIN), width - MARGIN),
            min(max(box[3], MARGIN), height - MARGIN),
        ]
        draw.rectangle([box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2], outline=OUTLINE, width=3)
        draw.text((box[0], max(box[1] - 14, 0)), f"#{number}", fill=OUTLINE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
