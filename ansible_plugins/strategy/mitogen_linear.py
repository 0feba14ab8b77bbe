# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's execution strategy: ansible-core's ``linear`` run by mitogen (PyPI ``mitogen``), else plain ``linear``.

ansible.cfg names this file (``strategy_plugins = ansible_plugins/strategy``, ``strategy = mitogen_linear``). mitogen
keeps one Python interpreter per host for a whole play instead of starting one per task: a module run no longer
imports boto3 and parses the service models again, which halves the CPU of a converge (docs/benchmarks.md, "mitogen
as the default"). Plays and tasks do not change with it; ``ANSIBLE_STRATEGY=linear`` runs without it.

mitogen ships this class as ``ansible_mitogen/plugins/strategy/mitogen_linear.py`` inside its package; ansible.cfg
cannot name a directory inside the virtualenv (its path depends on the Python version), so this file builds the same
class from the installed package. When mitogen cannot be imported, or refuses the installed ansible-core (it checks
the version it supports when imported), the play runs with ansible-core's own ``linear`` after a warning that says
why and how to get mitogen back: the project never fails because an optimisation is missing.
"""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.utils.display import Display

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except (ImportError, AnsibleError) as error:
    from ansible.plugins.strategy import linear

    StrategyModule = linear.StrategyModule  # the fallback this file exports

    Display().warning(
        "strategy mitogen_linear: mitogen is unavailable (%s); running with ansible-core's linear strategy. "
        "`pip install -r requirements.txt` installs the pinned mitogen; ANSIBLE_STRATEGY=linear silences this." % error
    )
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[no-redef]
        """mitogen's ``mitogen_linear``: ansible-core's ``linear`` with mitogen's connections and module runner."""
