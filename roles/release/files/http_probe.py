# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP availability probe of playbooks/verify.yml: N sequential GET requests, one JSON line with every sample.

    python http_probe.py URL REQUESTS [--timeout SECONDS] [--interval SECONDS] [--insecure]

Prints ``{"url": ..., "samples": [{"ok": bool, "status": int|null, "seconds": float|null, "error": str|null}]}``.
``ok`` is a 2xx answer; ``seconds`` is the time to the complete answer (null when none came). The summary (success
ratio, percentiles) is the filter megapool.aws.latency_summary. Exit code 0 unless the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.request


def probe(url: str, timeout: float, context: ssl.SSLContext | None) -> dict:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # nosec: the operator's URL
            response.read()
            status = response.status
        return {"ok": 200 <= status < 300, "status": status, "seconds": round(time.perf_counter() - start, 6), "error": None}
    except urllib.error.HTTPError as e:
        return {"ok": False, "status": e.code, "seconds": round(time.perf_counter() - start, 6), "error": None}
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        return {"ok": False, "status": None, "seconds": None, "error": str(reason) or type(reason).__name__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("requests", type=int)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--insecure", action="store_true", help="do not check the TLS certificate")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error("REQUESTS must be 1 or more")
    context = ssl._create_unverified_context() if args.insecure else None  # pylint: disable=protected-access
    samples = []
    for index in range(args.requests):
        if index and args.interval:
            time.sleep(args.interval)
        samples.append(probe(args.url, args.timeout, context))
    json.dump({"url": args.url, "samples": samples}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
