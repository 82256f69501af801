"""A replay transport for httpx: recorded responses, in the sources' real formats, from a folder.

Used by the tests and by ``manage.py demo`` (``EVIDENCE_TRANSPORT = "replay"``), so the same
clients, rate limits and parsers run end to end with no network.

The folder holds ``index.json``::

    {"routes": [
      {"host": "data.sec.gov", "path": "/api/xbrl/companyfacts/CIK0001999001.json",
       "file": "sec/companyfacts-northwind.json"},
      {"host": "fred.stlouisfed.org", "path": "/graph/fredgraph.csv",
       "query": {"id": "FEDFUNDS"}, "file": "fred/FEDFUNDS.csv"},
      {"host": "api.gdeltproject.org", "path": "/api/v2/doc/doc", "status": 429,
       "body": "Please limit requests to one every 5 seconds"},
      {"host": "*", "path": "/slow", "timeout": true}
    ]}

A route matches on host (the ``Host`` header, so pinned-IP website fetches match by name),
path and a subset of query parameters; ``host``, ``path`` and query values are shell-style
patterns. The first match wins. A route answers with ``file`` (relative to the folder) or
``body``, a ``status`` (200) and a ``content_type`` (guessed from the file name), or raises a
read timeout with ``"timeout": true``. Anything unmatched gets a 404 saying so.

``EVIDENCE_REPLAY_DELAY_MS`` (environment, default 0) makes every replayed request take that
many milliseconds, as a slow network would. It is a test knob: the fault tests use it to kill a
worker while a collection is in the middle of its requests.
"""

from __future__ import annotations

import json
import os
import time
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import httpx

RECORDINGS = Path(__file__).with_name("recordings")
CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class ReplayTransport(httpx.BaseTransport):
    def __init__(self, folder: Path | str = RECORDINGS, extra_routes: list[dict] | None = None):
        self.folder = Path(folder)
        index = self.folder / "index.json"
        routes = json.loads(index.read_text(encoding="utf-8"))["routes"] if index.exists() else []
        self.routes: list[dict[str, Any]] = [*(extra_routes or []), *routes]
        self.requests: list[httpx.Request] = []

    def _matches(self, route: dict[str, Any], request: httpx.Request) -> bool:
        host = (request.headers.get("host") or request.url.host).split(":")[0].strip("[]")
        if not fnmatchcase(host.lower(), route.get("host", "*").lower()):
            return False
        if not fnmatchcase(request.url.path, route.get("path", "*")):
            return False
        if route.get("method", "GET").upper() != request.method:
            return False
        params = request.url.params
        for name, pattern in (route.get("query") or {}).items():
            if name not in params or not fnmatchcase(params[name], str(pattern)):
                return False
        return True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        delay_ms = int(os.environ.get("EVIDENCE_REPLAY_DELAY_MS") or 0)
        if delay_ms > 0:
            time.sleep(delay_ms / 1000)
        route = next((r for r in self.routes if self._matches(r, request)), None)
        if route is None:
            return httpx.Response(
                404,
                headers={"content-type": "text/plain; charset=utf-8"},
                stream=httpx.ByteStream(
                    f"No recording for {request.method} {request.url}".encode()
                ),
                request=request,
            )
        if route.get("timeout"):
            raise httpx.ReadTimeout("replayed timeout", request=request)
        content_type = route.get("content_type")
        if "file" in route:
            path = (self.folder / route["file"]).resolve()
            if self.folder.resolve() not in path.parents:
                raise ValueError(f"replay file outside its folder: {route['file']}")
            body = path.read_bytes()
            content_type = content_type or CONTENT_TYPES.get(
                path.suffix, "application/octet-stream"
            )
        else:
            body = str(route.get("body", "")).encode()
            content_type = content_type or "text/plain; charset=utf-8"
        headers = {"content-type": content_type, **(route.get("headers") or {})}
        # A stream, not ``content``: callers that stream the body (the website fetch) can.
        return httpx.Response(
            int(route.get("status", 200)),
            headers=headers,
            stream=httpx.ByteStream(body),
            request=request,
        )
