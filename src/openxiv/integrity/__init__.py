"""Prompt-injection detection and defence (SPEC §4): the scanner and its pipeline stage.

Import from the modules: `scanner` (`scan_document`, `scan_text`, `visible_text`), `schemas`
(`IntegrityReport`, `Finding`, `Category`, `Judge`, `JudgeVerdict`), `errors` (`DocumentError`,
`UnsupportedDocument`, `UnreadableDocument`), `settings` (`IntegritySettings`), `stage`
(`IntegrityScreeningStage`) and `service` (stored reports). This package imports none of them, so
`openxiv.config` can read the settings without loading pdfium or the submissions pipeline.
The corpus generator, benchmarks and classifier training are tooling: `openxiv.tooling.integrity`.
"""
