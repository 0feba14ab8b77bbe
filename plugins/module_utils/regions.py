# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS region names as botocore knows them (bundled endpoint data, no network call).

One copy for the network filters, the inventory plugin and the modules.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _cached_known_regions() -> tuple[str, ...]:
    import botocore.session  # pylint: disable=import-outside-toplevel

    session = botocore.session.get_session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions("ec2", partition_name=partition))
    return tuple(sorted(regions))


def known_regions() -> list[str]:
    """Every region of every partition in botocore's bundled endpoint data, sorted."""
    return list(_cached_known_regions())


def unknown_regions(regions: list[str], known: list[str] | None = None) -> list[str]:
    """The entries of ``regions`` that are not known regions, in their order (duplicates once)."""
    known_set = set(known_regions() if known is None else known)
    return list(dict.fromkeys(str(region) for region in regions if region not in known_set))


def regions_error(regions: list[str], option: str = "regions", known: list[str] | None = None) -> str | None:
    """A message naming the problem with a list of regions (empty, unknown names), or None when it is fine."""
    if not regions:
        return "%s is empty: list the AWS regions of the environment, e.g. [eu-north-1, us-east-1]." % option
    unknown = unknown_regions(regions, known)
    if not unknown:
        return None
    known_list = known_regions() if known is None else known
    hints = []
    for name in unknown:
        prefix = name.split("-", maxsplit=1)[0]
        close = [region for region in known_list if region.split("-", maxsplit=1)[0] == prefix]
        if close:
            hints.append("%s (known regions starting with %s-: %s)" % (name, prefix, ", ".join(close)))
        else:
            hints.append(name)
    return (
        "%s: unknown AWS region%s %s. Use region names such as eu-north-1 (botocore's endpoint data lists the known ones)."
        % (
            option,
            "" if len(unknown) == 1 else "s",
            "; ".join(hints),
        )
    )
