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

Every task of every host runs in a worker process forked from the controller, and what a worker loads dies with it.
mitogen already loads each task's module, action and connection plugins in the controller before it forks, "to ensure
all workers receive a hot cache" (its ``StrategyMixin._queue_task``). Before each play this class warms two more
things the same way, and freezes the controller's objects for the play's garbage collections (docs/benchmarks.md,
"Warm workers"):

- this collection's filter plugins: to resolve any ``megapool.aws.*`` filter, ansible-core loads every file of the
  collection's ``plugins/filter`` (``Jinja2Loader.get_with_context`` walks the package), unless it is already in
  ``sys.modules`` (``PluginLoader._load_module_source``); imported here once, every worker inherits them;
- the installed collection directories: mitogen's planner lists them (``list_collection_dirs``, about a hundred
  with the ``ansible`` package) each time a worker runs a collection's module, because the cache that should prevent
  that (``ansible_mitogen.planner._planner_by_path``) lives in the worker; listed here once per play.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil

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

    import ansible.collections.list
    import ansible_mitogen.planner

    def warm_worker_caches(collection: str = "megapool.aws") -> None:
        """Load in the controller what every forked worker would load again (the module docstring)."""
        try:
            package = importlib.import_module("ansible_collections.%s.plugins.filter" % collection)
        except ImportError:
            package = None  # not installed here: nothing to warm (ansible reports a missing filter itself)
        for module in pkgutil.iter_modules(getattr(package, "__path__", []), "%s." % getattr(package, "__name__", "")):
            try:
                importlib.import_module(module.name)
            except Exception:  # pylint: disable=broad-exception-caught
                pass  # the worker loads it again and ansible warns "Skipping filter plugins in ..." as without us

        directories = frozenset(path.decode("utf-8") for path in ansible.collections.list.list_collection_dirs())

        def load_collections(invocation) -> None:
            """``ansible_mitogen.planner._load_collections`` with the directories listed once in the controller."""
            invocation._extra_sys_paths.update(directories)  # pylint: disable=protected-access

        ansible_mitogen.planner._load_collections = load_collections  # pylint: disable=protected-access

    class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[no-redef]
        """mitogen's ``mitogen_linear``: ansible-core's ``linear`` with mitogen's connections and module runner."""

        def run(self, iterator, play_context, result=0):
            warm_worker_caches()
            # The controller's objects of the play's start move to the permanent generation for the play: its garbage
            # collections no longer walk them, nor do the workers', whose page copies they would cause (Python's
            # gc.freeze documentation: "call gc.freeze() right before fork()"). Back to the oldest generation after.
            gc.freeze()
            try:
                return super().run(iterator, play_context, result)
            finally:
                gc.unfreeze()
