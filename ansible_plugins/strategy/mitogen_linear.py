# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's execution strategy: ansible-core's ``linear`` run by mitogen (PyPI ``mitogen``), else plain ``linear``.

ansible.cfg names this file (``strategy_plugins = ansible_plugins/strategy``, ``strategy = mitogen_linear``). mitogen
keeps a Python interpreter running for a whole play instead of starting one per task: a module run no longer
imports boto3 again, which halves the CPU of a converge (docs/benchmarks.md, "mitogen as the default"). Plays and
tasks do not change with it; ``ANSIBLE_STRATEGY=linear`` runs without it.

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
  ``sys.modules`` (``PluginLoader._load_module_source``); imported here once, every worker inherits them, and each
  filter's name is resolved here once, kept by ``resolve_collection_plugins_once`` for every worker;
- the installed collection directories: mitogen's planner lists them (``list_collection_dirs``, about a hundred
  with the ``ansible`` package) each time a worker runs a collection's module, because the cache that should prevent
  that (``ansible_mitogen.planner._planner_by_path``) lives in the worker; listed here once per play.

And it changes three things about the interpreters that run the modules of ``connection: local`` hosts (every region
host; docs/benchmarks.md, "One interpreter per region, one botocore loader per interpreter" and "The boto3 sessions
and clients of an interpreter kept"):

- **one interpreter per host**: mitogen keys its contexts by the connection's parameters, and a local connection's
  are only the Python path, so every region shared one interpreter, which runs one call at a time: the regions'
  modules ran one after the other (two hosts' ``command: sleep 2`` took 4 s more than ``sleep 0``; 2 s with
  ``linear``), a wait in one region held up the others. The local connections get the host's name as mitogen's
  ``remote_name`` (the name a context's process shows), which makes the key differ per host;
- **one botocore loader per interpreter**: every module builds its clients from a new boto3 session, and every session
  creates a new ``botocore.loaders.Loader``, whose cache (``instance_cache``) is what keeps parsed JSON: each client
  parsed the endpoints, the partitions and its service model again, 80 % of an AWS module run's CPU in a warm
  interpreter (mitogen's profiler, 20 ``aws_caller_info`` runs). ``share_botocore_loaders`` runs in each local
  interpreter when it starts: sessions of the same ``data_path`` get the same loader, as the clients of one session do;
- **the sessions and clients kept**: building the session and the client again was still 40 % of a module run there
  (cProfile in the interpreter). ``keep_boto3_clients``, run there too, gives a module the session and the client an
  earlier module made with the same arguments in the same environment (``AWS_*`` and the proxy variables).

And it leaves **where processes run to the kernel**: mitogen pins its processes to CPUs (``ansible_mitogen/affinity.py``,
``FixedPolicy``) - its connection process to CPU 0, the controller and each forked worker to "CPU 1..N", and the
processes it starts (every region's interpreter) to "all but CPU 0". On a machine with fewer than four CPUs, CI's two
for one, that is one CPU for the controller, every worker and every region's interpreter while CPU 0 waits on sockets:
a no-op ``site.yml`` ran at one CPU's pace (31 s wall for 30.5 CPU s; 20.5 s without the pinning). On bigger machines
it keeps the regions' interpreters off two CPUs. Linux's scheduler places them here instead (mitogen's base ``Policy``,
which pins nothing; docs/benchmarks.md, "CPU pinning off").

And in every strategy this file hands out (mitogen's or the ``linear`` fallback), **the tasks that only compute run in
the controller** (``ComputeTasksInController``; docs/benchmarks.md, "Tasks that only compute run in the controller"):
ansible-core forks a worker for every task of every host, also for a ``set_fact``, an ``assert`` or a task whose
condition is false or whose loop's list is empty, which never touch their host: three quarters of a no-op
``site.yml``'s task runs. Those run ansible-core's own ``TaskExecutor`` in the controller instead, with a copy of the
task and of its variables as the fork gave them, and their results take the workers' queue: the same results,
callbacks and errors, a fork and a worker's start fewer each.

And in every strategy this file hands out, **compiled templates are kept**
(docs/benchmarks.md, "Compiled templates kept for the run" and "... kept between runs"): each worker compiled every
template of its task again (about 5,000 compiles in a no-op ``site.yml``, a third of the workers' CPU), though few
are new. ``cache_compiled_templates`` keeps the code of each compiled template string in a directory (a file per
template and compile settings, written whole or not at all), which the next worker, and the next run, reads instead
of compiling: the user's directory for this Python, Jinja and ansible-core, else one of the run. And a filter or test
name with a collection is resolved once per process (``resolve_collection_plugins_once``).
"""

from __future__ import annotations

import atexit
import gc
import hashlib
import importlib
import importlib.util
import inspect
import marshal
import os
import pkgutil
import re
import shutil
import stat
import sys
import tempfile
import time

from ansible.errors import AnsibleError
from ansible.utils.display import Display


def share_botocore_loaders() -> bool:
    """Give the botocore sessions of this interpreter one data loader per ``data_path`` (the module docstring).

    Self-contained: its source runs in mitogen's local interpreters. ``botocore.session.Session`` creates its loader
    with ``create_loader(self.get_config_variable("data_path"))`` (``Session._register_data_loader``), the name it
    imports from ``botocore.loaders``; the same ``data_path`` (``AWS_DATA_PATH``) gets the same loader. What the
    loader returns is shared already by every client of a session, and nothing in botocore or boto3 changes it (no
    handler of ``service-data-loaded``). False, changing nothing, when botocore is not installed here, when it is not
    the botocore this was written for (no ``create_loader`` where it is looked up: a failure here would fail the
    connection, and so the run), or when the loaders are shared already."""
    import functools  # pylint: disable=import-outside-toplevel

    try:
        import botocore.loaders  # pylint: disable=import-outside-toplevel
        import botocore.session  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    create_loader = getattr(botocore.loaders, "create_loader", None)
    if not callable(create_loader) or not callable(getattr(botocore.session, "create_loader", None)):
        return False
    if hasattr(botocore.session.create_loader, "cache_info"):
        return False
    botocore.session.create_loader = functools.lru_cache(maxsize=None)(create_loader)
    return True


def keep_boto3_clients() -> bool:
    """Give the modules of this interpreter the boto3 session and client made before with the same settings (the module
    docstring).

    Self-contained: its source runs in mitogen's local interpreters. Each AWS module run builds a new
    ``boto3.session.Session`` (amazon.aws's ``_boto3_conn``, this collection's ``AWSModule.clients``) and a client
    from it: 10 to 30 ms of CPU (the session registers about 130 event handlers, the client builds its class from the
    service model), 40 % of a module run in a warm interpreter. What both are depends only on their arguments and on
    the environment botocore reads: a session made with plain arguments (strings, numbers, booleans, None, and
    lists, tuples or dicts of them), and a client made from such a session with plain arguments and a
    ``botocore.config.Config`` of plain options, are kept, keyed by those arguments and by the environment variables
    botocore and its HTTP layer read (``AWS_*``, the ``*_proxy`` ones, ``HOME``); the next module asking for the same
    gets the same object, as a long-running boto3 program keeps its clients (boto3's guide, "Multithreading or
    multiprocessing with clients", https://boto3.amazonaws.com/v1/documentation/api/latest/guide/clients.html: a
    client may be used again and from several threads; a session from one thread at a time, and mitogen runs one
    module at a time in an interpreter). Anything else (a
    ``botocore_session`` object, a config with a non-plain option, anything while amazon.aws's test recorder
    ``_ANSIBLE_PLACEBO_*`` is on) is made new each time, as before. A process forked from the interpreter (mitogen
    forks one for an ``async`` or an isolated task) starts with none kept: its parent's clients hold sockets the parent
    goes on using. False, changing nothing, when boto3 is not installed here or clients are kept already."""
    import os  # pylint: disable=import-outside-toplevel,reimported,redefined-outer-name

    try:
        import boto3.session  # pylint: disable=import-outside-toplevel
        import botocore.config  # pylint: disable=import-outside-toplevel
    except ImportError:
        return False
    session_class = boto3.session.Session
    if hasattr(session_class.client, "megapool_kept"):
        return False
    make_session = session_class.__init__
    make_client = session_class.client
    sessions: dict = {}
    clients: dict = {}

    def plain(value) -> bool:
        if value is None or isinstance(value, (str, int, float, bool)):
            return True
        if isinstance(value, (list, tuple)):
            return all(plain(item) for item in value)
        if isinstance(value, dict):
            return all(isinstance(name, str) and plain(item) for name, item in value.items())
        return False

    def key(args, kwargs):
        named = []
        for name, value in sorted(kwargs.items()):
            if isinstance(value, botocore.config.Config):
                value = ("botocore.config.Config", value._user_provided_options)  # pylint: disable=protected-access
            named.append((name, value))
        if not plain([list(args), named]):
            return None
        environment = sorted(
            (name, value)
            for name, value in os.environ.items()
            if name.upper().startswith("AWS_") or name.upper().endswith("_PROXY") or name == "HOME"
        )
        if any(name.startswith("_ANSIBLE_PLACEBO") for name in os.environ):
            return None  # amazon.aws's recorder for its tests attaches itself to each new session
        return repr((args, named, environment))

    def new_session(cls, *args, **kwargs):
        found = key(args, kwargs) if cls is session_class else None
        if found is None:
            return object.__new__(cls)
        session = sessions.get(found)
        if session is None:
            session = sessions[found] = object.__new__(cls)
            session._megapool_key = found  # pylint: disable=protected-access
        return session

    def init_session(self, *args, **kwargs):
        if getattr(self, "_megapool_ready", False):
            return  # a kept session: made already
        make_session(self, *args, **kwargs)
        self._megapool_ready = True  # pylint: disable=protected-access

    def client(self, *args, **kwargs):
        kept = getattr(self, "_megapool_key", None)
        found = key(args, kwargs) if kept is not None else None
        if found is None:
            return make_client(self, *args, **kwargs)
        made = clients.get((kept, found))
        if made is None:
            made = clients[(kept, found)] = make_client(self, *args, **kwargs)
        return made

    def forget() -> None:
        sessions.clear()  # a forked process (mitogen's async and isolated tasks) makes its own: the kept clients'
        clients.clear()  # connections are the parent's sockets, which it goes on using

    os.register_at_fork(after_in_child=forget)
    client.megapool_kept = clients
    session_class.__new__ = new_session
    session_class.__init__ = init_session
    session_class.client = client
    return True


def cache_compiled_templates(directory: str | None = None) -> str | None:
    """Keep the Python code Jinja compiles from a template for every process of this run (the module docstring).

    ansible-core compiles each template it renders (``TemplateEngine._compile_template``: ``env.from_string``), in
    the worker process of the task, which ends with the task; Jinja caches only templates loaded by name. The code of
    a template string depends on the string and on the environment's compile settings (the lexer's fields that a
    template's ``#jinja2:`` header can override, ``optimized``, ``autoescape``, the extensions, the code generator,
    and ansible-core's ``escape_backslashes`` of the compile), which form the key with it; the filters a template names
    are looked up again when it renders. Only strings compiled to code by an ``AnsibleEnvironment`` are kept, not when
    ansible-core's template debugging is on; a template that does not compile raises as before and is not kept.
    ``directory`` None: the user's directory for this Python, Jinja and ansible-core (``kept_templates_directory``),
    kept between runs as Python keeps ``__pycache__``; when that cannot be used, one made for this run (removed when
    the process that made it exits). Returns the directory, or None when already active."""
    # ansible-core 2.19's private templating module: what the key needs is looked up here, before anything changes, so
    # that another ansible-core fails here (the caller warns and runs without) rather than in a template.
    # pylint: disable-next=import-outside-toplevel
    from ansible._internal._templating import _jinja_bits

    environment = _jinja_bits.AnsibleEnvironment
    if hasattr(environment.compile, "megapool_wraps"):
        return None
    jinja_compile = environment.compile
    fields = _jinja_bits._TEMPLATE_OVERRIDE_FIELD_NAMES  # pylint: disable=protected-access
    compile_context = _jinja_bits._TemplateCompileContext  # pylint: disable=protected-access
    if not isinstance(environment._debuggable_template_source, bool) or not callable(compile_context.current):  # pylint: disable=protected-access
        raise AttributeError("ansible-core's AnsibleEnvironment is not the one this cache was written for")
    if directory is None:
        try:
            directory = kept_templates_directory()
        except OSError:  # no home, a read-only one, or a directory someone else may write to: this run's own
            directory = tempfile.mkdtemp(prefix="megapool-templates-")
            atexit.register(_remove_directory, os.getpid(), directory)
    in_memory: dict[str, object] = {}

    def compile_cached(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str) or self._debuggable_template_source:  # pylint: disable=protected-access
            return jinja_compile(self, source, name, filename, raw, defer_init)
        context = compile_context.current(optional=True)
        settings = (
            type(self).__module__,
            type(self).__qualname__,
            tuple(getattr(self, field) for field in fields),
            self.optimized,
            self.autoescape,
            self.is_async,
            sorted(self.extensions),
            self.code_generator_class.__module__,
            self.code_generator_class.__qualname__,
            context.escape_backslashes if context else None,
            name,
            filename,
            defer_init,
        )
        digest = hashlib.sha256(repr(settings).encode("utf-8") + b"\0" + source.encode("utf-8", "surrogatepass"))
        key = digest.hexdigest()
        code = in_memory.get(key)
        if code is None:
            path = os.path.join(directory, key)
            try:
                with open(path, "rb") as handle:
                    code = marshal.load(handle)
            except (OSError, EOFError, ValueError, TypeError):
                code = jinja_compile(self, source, name, filename, raw, defer_init)
                _write_atomically(path, code)
            in_memory[key] = code
        return code

    compile_cached.megapool_wraps = jinja_compile
    environment.compile = compile_cached
    return directory


def kept_templates_directory(base: str | None = None, keep_days: int = 30) -> str:
    """The user's directory of compiled templates for this Python, Jinja and ansible-core, kept between runs.

    ``$XDG_CACHE_HOME/megapool-aws/templates/<digest of the versions>`` (``~/.cache`` without it), made private
    (0700). Marshalled code is executed when read, so a directory that is not a directory of this user that only it
    may write to raises OSError (as does one that cannot be made); the caller then keeps templates for the run only.
    The versions are in the name because code objects are Python's and the code Jinja generates is its own and
    ansible-core's; the directories of other versions unused for ``keep_days`` days are removed here."""
    import jinja2  # pylint: disable=import-outside-toplevel
    from ansible import release  # pylint: disable=import-outside-toplevel

    base = base or os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    parent = os.path.join(base, "megapool-aws", "templates")
    versions = repr(
        (sys.version, importlib.util.MAGIC_NUMBER, marshal.version, jinja2.__version__, release.__version__)
    )
    directory = os.path.join(parent, hashlib.sha256(versions.encode("utf-8")).hexdigest()[:16])
    os.makedirs(directory, mode=0o700, exist_ok=True)
    status = os.lstat(directory)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o022:
        raise OSError("%s is not a directory only this user may write to" % directory)
    for other in os.scandir(parent):
        try:
            unused = time.time() - other.stat(follow_symlinks=False).st_mtime > keep_days * 86400
        except OSError:
            continue
        if other.path != directory and other.is_dir(follow_symlinks=False) and unused:
            shutil.rmtree(other.path, ignore_errors=True)
    return directory


def _write_atomically(path: str, code) -> None:
    """``marshal`` ``code`` to ``path`` through a file of this process: a reader sees all of it or nothing."""
    partial = "%s.%d.partial" % (path, os.getpid())
    try:
        with open(partial, "wb") as handle:
            marshal.dump(code, handle)
        os.replace(partial, path)
    except (OSError, ValueError):  # a full disk, or a constant marshal cannot write: this process keeps it in memory
        try:
            os.unlink(partial)
        except OSError:
            pass


def resolve_collection_plugins_once() -> bool:
    """Keep what ansible-core's filter and test loaders resolve for a name with a collection (``megapool.aws.x``).

    ``Jinja2Loader.get_with_context`` resolves such a name each time a template environment first uses it (every
    worker makes several): it lists the collection's ``plugins/filter`` package, loads each file's plugin map and builds
    new plugin objects, about 0.9 ms a name (its short and ``ansible.builtin`` names come from a cache). What a name
    with a collection resolves to depends only on the installed collections, so the first result is kept for the
    process (and for the workers forked after it: ``warm_worker_caches`` resolves this collection's filters in the
    controller). ``ansible.legacy`` names and calls with arguments go to ansible-core as before (they depend on the
    play's plugin paths); a name that resolves to nothing is not kept. Returns False when already active."""
    from ansible.plugins.loader import filter_loader, test_loader  # pylint: disable=import-outside-toplevel

    if hasattr(filter_loader.get_with_context, "megapool_resolved"):
        return False

    def kept(resolve):
        resolved: dict = {}

        def get_with_context(name, *args, **kwargs):
            if args or kwargs or not isinstance(name, str) or name.count(".") < 2 or name.startswith("ansible.legacy."):
                return resolve(name, *args, **kwargs)
            result = resolved.get(name)
            if result is None:
                result = resolve(name)
                if result.object is not None:
                    resolved[name] = result
            return result

        get_with_context.megapool_resolved = resolved
        return get_with_context

    for loader in (filter_loader, test_loader):
        loader.get_with_context = kept(loader.get_with_context)
    return True


try:  # ansible-core 2.19's worker internals: ComputeTasksInController runs a task as a worker would, or not at all
    from ansible._internal import _task as _task_context
    from ansible.constants import _ACTION_ALL_INCLUDES, _ACTION_DEBUG, _ACTION_SET_FACT
    from ansible.executor.task_executor import TaskExecutor as _TaskExecutor
    from ansible.executor.task_result import _RawTaskResult
    from ansible.plugins import loader as _plugin_loader
    from ansible.utils.fqcn import add_internal_fqcns
except ImportError:  # another ansible-core: every task goes to a worker, as in linear
    _TaskExecutor = None
    COMPUTE_ACTIONS: frozenset = frozenset()
else:
    COMPUTE_ACTIONS = frozenset(
        (*_ACTION_SET_FACT, *_ACTION_DEBUG, *_ACTION_ALL_INCLUDES)
        + tuple(add_internal_fqcns(("assert", "fail", "set_stats", "validate_argument_spec")))
    )

    class _NeedsWorker(BaseException):
        """The task wants its connection: it goes to a worker. A BaseException, as ``TaskExecutor`` turns every
        Exception into a failed result."""

    class _ControllerTaskExecutor(_TaskExecutor):  # type: ignore[misc,valid-type]
        """ansible-core's ``TaskExecutor``, which hands a task that would connect to its host back to a worker."""

        def _get_connection(self, cvars, templar, current_connection):
            if self._task.action not in COMPUTE_ACTIONS:
                raise _NeedsWorker()
            return super()._get_connection(cvars, templar, current_connection)


# A task that names a lookup reads something (AWS, a file, a command): it runs in a worker, the hosts in parallel.
_READS = re.compile(r"\b(lookup|query|q)\s*\(")


class ComputeTasksInController:
    """Run in the controller the tasks that only compute, and those that skip (the module docstring).

    ansible-core's ``StrategyBase._queue_task`` forks a ``WorkerProcess`` for every task and host, which runs
    ``TaskExecutor(...).run()`` and puts the result on the results queue. For the actions in ``COMPUTE_ACTIONS``
    (``set_fact``, ``assert``, ``debug``, ``fail``, ``set_stats``, ``validate_argument_spec``, the includes), which
    never use their connection, for any task without a loop whose ``when`` is false here, and for a task whose
    ``loop`` is an empty list here (the "one read decides the writes" tasks of a no-op), this runs the same
    ``TaskExecutor`` in the controller on a copy of the task and a copy of its variables (what the fork gave the
    worker), and puts its result on the same queue: the strategy, the callbacks and the results are those of a worker.
    A task that would connect after all (its condition is true with the connection's variables) goes to a worker before
    anything ran; so does a task whose list is not empty. Forked as before: a task that names a lookup or loops with
    ``with_*`` (it reads, and the hosts' reads run in parallel), a task with ``delegate_to``, and a computing task
    with ``async``, ``until``, ``timeout`` (a signal in the controller) or a loop ``pause``."""

    def _in_controller(self, task, task_vars) -> str | None:
        """ "compute", "skip", "loop" (if its list is empty: ``_queue_task`` templates it) or None (a worker)."""
        if (
            _TaskExecutor is None
            or task.delegate_to
            or _READS.search(repr((task.args, task.when, task.loop, task.vars)))
        ):
            return None
        if task.action in COMPUTE_ACTIONS:
            # Not what would wait or use a signal in the controller (a task that does not run never gets that far).
            waits = task.async_val or task.until or task.timeout or getattr(task.loop_control, "pause", 0)
            return None if waits else "compute"
        if task.loop_with:
            return None  # a lookup makes its list
        if task.loop is not None:
            return "loop"
        if not task.when:
            return None
        try:
            if task._resolve_conditional(task.when, task_vars):  # pylint: disable=protected-access
                return None
        except Exception:  # pylint: disable=broad-exception-caught
            return None  # the worker raises it where ansible-core reports it
        return "skip"

    def _queue_task(self, host, task, task_vars, play_context):
        kind = self._in_controller(task, task_vars)
        if kind is None:
            return super()._queue_task(host, task, task_vars, play_context)
        own = task.copy(exclude_tasks=True)  # the worker's copy: TaskExecutor squashes and templates its task
        executor = _ControllerTaskExecutor(
            host,
            own,
            dict(task_vars),  # a loop sets its item variables in them
            play_context,
            self._loader,
            _plugin_loader.get_plugin_loader_namespace(),
            self._final_q,
            self._variable_manager,
        )
        if kind == "loop":
            try:
                with _task_context.TaskContext(own):
                    empty = executor._get_loop_items() == []  # pylint: disable=protected-access
            except Exception:  # pylint: disable=broad-exception-caught
                empty = False  # the worker raises it where ansible-core reports it
            if not empty:
                return super()._queue_task(host, task, task_vars, play_context)
        queued = {"host": host, "task": task, "task_vars": task_vars, "play_context": play_context}
        self._queued_task_cache[(host.name, task._uuid)] = queued  # pylint: disable=protected-access
        if kind == "compute":
            self._tqm.send_callback("v2_runner_on_start", host, task)
        try:
            with _task_context.TaskContext(own):
                result = executor.run()
        except _NeedsWorker:
            return super()._queue_task(host, task, task_vars, play_context)
        if kind != "compute":
            self._tqm.send_callback("v2_runner_on_start", host, task)
        self._final_q.send_task_result(
            _RawTaskResult(host=host, task=own, return_data=result, task_fields=own.dump_attrs())
        )
        self._pending_results += 1
        return None


def _remove_directory(owner: int, directory: str) -> None:
    if os.getpid() == owner:  # not in a forked child that happens to run atexit handlers
        shutil.rmtree(directory, ignore_errors=True)


try:
    cache_compiled_templates()
except (ImportError, AttributeError) as error:  # another ansible-core: compile as it does
    Display().warning("strategy mitogen_linear: compiled templates are not kept for the run (%s)." % error)

resolve_collection_plugins_once()

try:
    import ansible_mitogen.loaders
    import ansible_mitogen.strategy
except (ImportError, AnsibleError) as error:
    from ansible.plugins.strategy import linear

    class StrategyModule(ComputeTasksInController, linear.StrategyModule):  # type: ignore[no-redef]
        """The fallback this file exports: ansible-core's ``linear``, the tasks that only compute in the controller."""

    Display().warning(
        "strategy mitogen_linear: mitogen is unavailable (%s); running with ansible-core's linear strategy. "
        "`pip install -r requirements.txt` installs the pinned mitogen; ANSIBLE_STRATEGY=linear silences this." % error
    )
else:
    _Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)

    import ansible.collections.list
    import ansible.plugins.loader
    import ansible_mitogen.affinity
    import ansible_mitogen.connection
    import ansible_mitogen.planner
    import ansible_mitogen.services

    def warm_worker_caches(collection: str = "megapool.aws") -> None:
        """Load in the controller what every forked worker would load again (the module docstring)."""
        try:
            package = importlib.import_module("ansible_collections.%s.plugins.filter" % collection)
        except ImportError:
            package = None  # not installed here: nothing to warm (ansible reports a missing filter itself)
        for module in pkgutil.iter_modules(getattr(package, "__path__", []), "%s." % getattr(package, "__name__", "")):
            try:
                names = importlib.import_module(module.name).FilterModule().filters()
            except Exception:  # pylint: disable=broad-exception-caught
                continue  # the worker loads it again and ansible warns "Skipping filter plugins in ..." as without us
            for name in names:  # kept by resolve_collection_plugins_once, inherited by every worker
                ansible.plugins.loader.filter_loader.get_with_context("%s.%s" % (collection, name))

        directories = frozenset(path.decode("utf-8") for path in ansible.collections.list.list_collection_dirs())

        def load_collections(invocation) -> None:
            """``ansible_mitogen.planner._load_collections`` with the directories listed once in the controller."""
            invocation._extra_sys_paths.update(directories)  # pylint: disable=protected-access

        ansible_mitogen.planner._load_collections = load_collections  # pylint: disable=protected-access

    # No CPU pinning (the module docstring): every caller looks the policy up here when it runs.
    ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

    # mitogen's own functions, also when this file is executed again (tests do): wrappers name what they wrap.
    _connect_local = ansible_mitogen.connection.CONNECTION_METHOD["local"]
    _connect_local = getattr(_connect_local, "megapool_wraps", _connect_local)

    def connect_local_per_host(spec) -> dict:
        """mitogen's parameters of a local connection, with the host's name: one interpreter per host (module doc)."""
        params = _connect_local(spec)
        name = "megapool:%s" % spec.inventory_name()
        params["kwargs"]["remote_name"] = name.replace("/", "_").replace("\\", "_")  # mitogen refuses slashes
        return params

    connect_local_per_host.megapool_wraps = _connect_local
    ansible_mitogen.connection.CONNECTION_METHOD["local"] = connect_local_per_host

    _SHARE_BOTOCORE_LOADERS = (
        "".join((inspect.getsource(share_botocore_loaders), inspect.getsource(keep_boto3_clients)))
        + "share_botocore_loaders()\nkeep_boto3_clients()\n"
    )
    _context_connect = ansible_mitogen.services.ContextService._connect  # pylint: disable=protected-access
    _context_connect = getattr(_context_connect, "megapool_wraps", _context_connect)

    def connect_and_share_loaders(self, key, spec, via=None) -> dict:
        """``ContextService._connect`` (in mitogen's connection process), then ``share_botocore_loaders`` in a new
        local interpreter. Local only: elsewhere mitogen would send botocore's source over the connection."""
        result = _context_connect(self, key, spec, via)
        if spec.get("method") == "local" and result.get("context") is not None:
            result["context"].call(exec, _SHARE_BOTOCORE_LOADERS, {"__name__": "megapool_share_botocore_loaders"})
        return result

    connect_and_share_loaders.megapool_wraps = _context_connect
    ansible_mitogen.services.ContextService._connect = connect_and_share_loaders  # pylint: disable=protected-access

    class StrategyModule(ComputeTasksInController, ansible_mitogen.strategy.StrategyMixin, _Linear):  # type: ignore[no-redef]
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
