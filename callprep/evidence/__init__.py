"""Evidence collection: a worker fetches each external source for an account, parses it with
``callprep.sources`` and keeps the rows, with provenance, for the brief's evidence panel.

Modules: ``models`` (runs, evidence, citations, cache), ``clients`` (one httpx client per
source: build request -> fetch with timeouts, retries and a shared rate limit -> parse),
``collect`` (the domain functions), ``tasks`` (thin Celery tasks), ``insights`` (rules that
turn evidence into talking points), ``views`` (progress, panel, refresh, cite).
"""
