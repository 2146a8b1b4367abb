"""The HTTP kit every domain's API and pages are built with: sessions per request, problem
documents, idempotent writes, rate limits, security headers and page rendering.

It knows no domain: nothing here imports accounts, submissions, review, integrity, literature or
the runtime. Domains import the kit; `openxiv.app` wires the domains' routers and puts what the
kit reads (`Database`, the limiters, the instance name) on `app.state`.
"""
