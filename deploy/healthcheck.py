"""Container healthcheck: exit 0 when URL answers HTTP with a status below 500, else exit 1.

Usage: python /opt/fepflow/deploy/healthcheck.py http://127.0.0.1:8000/health [timeout_s]

The slim image has no curl or wget; this uses only the standard library. Any answer below 500
(a 401 or 404 included) proves the server accepts connections and serves requests.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write("usage: healthcheck.py URL [timeout_s]\n")
        return 2
    url = argv[1]
    timeout = float(argv[2]) if len(argv) > 2 else 5.0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        sys.stderr.write(f"{url}: {exc}\n")
        return 1
    if status >= 500:
        sys.stderr.write(f"{url}: HTTP {status}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
