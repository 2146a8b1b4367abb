"""Genesys-lite: an evolutionary discoverer of language-model block designs (docs/genesys.md).

A design is a tree of units (`design.py`, plain JSON); `units.py` turns it into a PyTorch module,
`checker.py` tests it before any training, `verify.py` trains it on a ladder of tiny rungs,
`designer.py` proposes new designs from old ones, `publish.py` puts every design on OpenXiv
through the public client (where the platform's review is the gate), `loop.py` runs the
evolution, `store.py` keeps the tree, `report.py` draws the results.

torch is an optional extra (`pip install openxiv[genesys]`). Only the modules that build or run
models import it, and they do so through `openxiv.genesys.torchcheck.require_torch`, so that the
server, the API and the reviews never load it and a missing torch is one readable error.
"""
