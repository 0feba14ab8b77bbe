# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The waves of a deploy or rollback (filter ``megapool.aws.release_waves``; pure, no I/O).

playbooks/deploy.yml and rollback.yml roll the canary region out first, then the other regions (one after the other,
or all at once). This is the one place that decides which region is the canary, and the checks of the inputs that
decide it, so that the validation play, the canary play, the play of the other regions and the report agree:

- the canary is ``release_canary_region``, else the first region of the play (``ansible_play_hosts_all``);
- a canary that is not a region of the environment is refused, naming the regions;
- a canary that is a region of the environment but not of this run (``--limit``) is refused too: the canary play
  would roll out nothing and the other regions would all go first, without a canary;
- ``release_rollout`` is ``serial`` (default) or ``parallel``;
- a deploy needs ``release_image``.
"""

from __future__ import annotations

from typing import Any
from typing import Iterable

ROLLOUTS = ("serial", "parallel")
WAVES = ("canary", "others", "all")


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def release_waves(
    environment_hosts: Iterable[str],
    play_hosts: Iterable[str],
    canary_region: str | None = None,
    rollout: str | None = None,
    image: str | None = None,
    image_required: bool = False,
) -> dict[str, Any]:
    """``{"canary": <host or None>, "others": [<hosts>], "rollout": "serial"|"parallel", "errors": [...]}``.

    ``environment_hosts``: the environment's region hosts (filter ``environment_hosts``); ``play_hosts``: the hosts of
    the run, in order (``ansible_play_hosts_all``). ``others`` are the play's hosts after the canary, in order."""
    environment = [str(host) for host in environment_hosts or []]
    play = [str(host) for host in play_hosts or []]
    errors = []
    if image_required and _unset(image):
        errors.append("release_image is not set: give the image to deploy, -e release_image=<repository>:<tag>")
    canary = None if _unset(canary_region) else str(canary_region).strip()
    if canary is not None and canary not in environment:
        errors.append(
            "release_canary_region=%s is not a region of this inventory (%s): choose one of them"
            % (canary, ", ".join(environment))
        )
    elif canary is not None and canary not in play:
        errors.append(
            "release_canary_region=%s is not in this run (its regions: %s; --limit?): choose one of them, or run "
            "without the --limit that leaves it out" % (canary, ", ".join(play))
        )
    if canary is None:
        canary = play[0] if play else None
    chosen = "serial" if _unset(rollout) else str(rollout)
    if chosen not in ROLLOUTS:
        errors.append("release_rollout=%s: choose serial (one region after the other) or parallel" % rollout)
    return {"canary": canary, "others": [host for host in play if host != canary], "rollout": chosen, "errors": errors}


def in_wave(plan: dict[str, Any], host: str, wave: str) -> bool:
    """Whether ``host`` rolls out in ``wave``: ``canary`` (the canary only), ``others`` (every other host) or ``all``."""
    if wave not in WAVES:
        raise ValueError("release_wave=%s: choose canary, others or all" % (wave,))
    if wave == "all":
        return True
    return (host == plan.get("canary")) == (wave == "canary")
