"""Container health check: `python -m salesprep.healthcheck` exits 0 when /healthz says ok.

It asks the local gunicorn over plain HTTP (``/healthz`` is exempt from the HTTPS redirect) with
a Host the app accepts, the first of ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    host = (os.environ.get("ALLOWED_HOSTS") or "localhost").split(",")[0].strip()
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": host},
    )
    try:
        with urllib.request.urlopen(request, timeout=3) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
