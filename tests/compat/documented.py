# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""python documented.py DOC.json NAME...: exit 1 naming the NAMEs that `ansible-doc --json` gave no documentation.

ansible-doc --json (2.17) answers a plugin without DOCUMENTATION with an empty entry instead of an error.
"""

from __future__ import annotations

import json
import sys


def undocumented(docs: dict, names: list[str]) -> list[str]:
    """The names whose entry has neither ``doc`` (plugins) nor ``entry_points`` (roles)."""
    return [
        name for name in names if not ((docs.get(name) or {}).get("doc") or (docs.get(name) or {}).get("entry_points"))
    ]


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as handle:
        missing = undocumented(json.load(handle), argv[1:])
    if missing:
        print("no documentation: %s" % " ".join(missing))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
