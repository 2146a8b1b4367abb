"""Tools shipped with the package for commands and benchmarks, never used by the running service.

`pdfwriter` writes real PDF files without a typesetting system (demo papers, test fixtures, the
integrity corpus); `fake_llm_server` is a local OpenAI/Anthropic-style HTTP server with scripted
answers, for benchmarks and tests of the hosted LLM adapters; `integrity` holds the integrity
scanner's labelled corpus generator, its benchmarks and the training of its shipped classifier.
Runtime domains never import from here; the arrows point the other way.
"""
