# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record every AWS request a Python process sends, as JSON lines, when ``MEGAPOOL_CALL_LOG`` names a file.

Put this directory on ``PYTHONPATH`` (tests/run-all.sh does) and every Python process started from there -- the
``ansible-playbook`` controller (lookups, the inventory plugin), each AnsiballZ module process it spawns (they inherit
the environment), pytest and its workers -- imports this file at start-up (``site`` imports ``sitecustomize``).

Cost: without ``MEGAPOOL_CALL_LOG`` nothing happens. With it, a meta-path hook waits for ``botocore.client`` to be
imported (a process that never imports botocore pays one list entry) and then wraps
``BaseClient._make_api_call`` and ``BaseClient._convert_to_request_dict``: the parameters are taken *after* botocore's
``before-parameter-build`` handlers (e.g. Route 53's ``/hostedzone/`` prefix stripping, idempotency tokens), i.e.
exactly what is serialised for AWS. One ``os.write`` of one line per call in ``O_APPEND`` mode, so parallel processes
(forks, xdist workers) never interleave lines.

Members whose botocore shape is ``sensitive`` are redacted: every string under them becomes
``{"__redacted__": true, "length": N}`` so that length rules can still be checked, never the value.

A record::

    {"service": "ecs", "operation": "RunTask", "region": "eu-north-1", "endpoint": "http://127.0.0.1:5100",
     "params": {...}, "error": null, "time": 1764700000.123, "pid": 4242, "caller": "megapool.aws.ecs_task_gate",
     "playbook": "playbooks/site.yml", "scenario": "default", "test": "tests/integration/...", "stage": "molecule"}

``python scripts/emulator.py reset`` run with the variable set writes ``{"event": "reset", "endpoint": ...}``: the
emulator forgot everything, which the call-order checks need to know.
"""

from __future__ import annotations

import os
import sys

_LOG = os.path.abspath(os.environ["MEGAPOOL_CALL_LOG"]) if os.environ.get("MEGAPOOL_CALL_LOG") else None


def _jsonable(value):
    import base64  # pylint: disable=import-outside-toplevel
    import datetime  # pylint: disable=import-outside-toplevel

    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": len(value), "base64": base64.b64encode(bytes(value)[:4096]).decode("ascii")}
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if hasattr(value, "read"):
        return {"__stream__": True}
    return repr(value)


def _redacted_string(value: str) -> dict:
    marker = {"__redacted__": True, "length": len(value)}
    # EC2 marks launch-template UserData sensitive. The one line the ECS agent reads from it, the cluster to join,
    # is no secret and the call-order checks need it: keep ECS_CLUSTER's value, nothing else.
    if len(value) < 65536 and "ECS_CLUSTER" not in value:
        try:
            import base64  # pylint: disable=import-outside-toplevel

            value = base64.b64decode(value, validate=True).decode("utf-8", "replace")
        except ValueError:
            return marker
    import re  # pylint: disable=import-outside-toplevel

    match = re.search(r"ECS_CLUSTER=[\"']?([A-Za-z0-9_-]+)", value)
    if match:
        marker["ecs_cluster"] = match.group(1)
    return marker


def _redact_all(value):
    if isinstance(value, str):
        return _redacted_string(value)
    if isinstance(value, dict):
        return {k: _redact_all(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_all(v) for v in value]
    return value


def redact(shape, value):
    """``value`` with every member the botocore model marks ``sensitive`` replaced by its length."""
    if shape is None or value is None:
        return value
    if shape.metadata.get("sensitive"):
        return _redact_all(value)
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: redact(members.get(k), v) for k, v in value.items()}
    if kind == "list" and isinstance(value, (list, tuple)):
        return [redact(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: redact(shape.value, v) for k, v in value.items()}
    return value


_PROCESS = {}
_CREATES = ("Create", "Register", "Run", "Request", "Allocate", "Import", "Put")


def _result_ids(value, path="", depth=0, out=None) -> dict:
    """Ids, ARNs and names in the answer of a create call (what later requests refer to), by path."""
    out = {} if out is None else out
    if depth > 3 or len(out) > 20:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "ResponseMetadata":
                continue
            child = "%s.%s" % (path, key) if path else key
            if isinstance(item, str) and key.endswith(("Id", "Arn", "Name", "id", "arn", "name")):
                out[child] = item
            elif isinstance(item, (dict, list)):
                _result_ids(item, child, depth + 1, out)
    elif isinstance(value, list):
        for index, item in enumerate(value[:5]):
            _result_ids(item, "%s[%d]" % (path, index), depth + 1, out)
    return out


def _playbook() -> str | None:
    """The playbook of the ansible-playbook process this one descends from (read once per process)."""
    if "playbook" in _PROCESS:
        return _PROCESS["playbook"]
    found = None
    pid = os.getpid()
    for _level in range(6):
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as handle:
                argv = [a.decode("utf-8", "replace") for a in handle.read().split(b"\0") if a]
            with open("/proc/%d/stat" % pid, "rb") as handle:
                pid = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        if any(a.endswith("ansible-playbook") for a in argv[:2]):
            found = next((a for a in argv if a.endswith((".yml", ".yaml")) and not a.startswith("-")), None)
            break
        if pid <= 1:
            break
    _PROCESS["playbook"] = found
    return found


def _caller() -> str | None:
    """The Ansible plugin (namespace.collection.name) or test file that sent the request."""
    import re  # pylint: disable=import-outside-toplevel

    plugin = re.compile(
        r"ansible_collections/(\w+)/(\w+)/plugins/(modules|inventory|lookup|action|module_utils)/(\w+)\.py$"
    )
    frame = sys._getframe(2)  # pylint: disable=protected-access
    test = util = None
    while frame is not None:
        name = frame.f_code.co_filename
        match = plugin.search(name)
        if match and match.group(3) != "module_utils":
            return "%s.%s.%s" % (match.group(1), match.group(2), match.group(4))
        if match:  # a plugin's worker thread starts in module_utils: keep the outermost one
            util = "%s.%s.module_utils.%s" % (match.group(1), match.group(2), match.group(4))
        if test is None and "/tests/" in name and os.path.basename(name).startswith(("test_", "conftest")):
            test = name[name.index("/tests/") + 1 :]
        frame = frame.f_back
    return util or test


def _write(record: dict) -> None:
    import json  # pylint: disable=import-outside-toplevel

    for key, var in (
        ("scenario", "MOLECULE_SCENARIO_NAME"),
        ("test", "PYTEST_CURRENT_TEST"),
        ("stage", "MEGAPOOL_CALL_STAGE"),
    ):
        if os.environ.get(var):
            record[key] = os.environ[var]
    line = (json.dumps(record, default=_jsonable, sort_keys=True) + "\n").encode("utf-8")
    fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _patch(client_module) -> None:
    import threading  # pylint: disable=import-outside-toplevel
    import time  # pylint: disable=import-outside-toplevel

    base = client_module.BaseClient
    if getattr(base, "_megapool_recorded", False):
        return
    seen = threading.local()
    convert = base._convert_to_request_dict  # pylint: disable=protected-access
    make_call = base._make_api_call  # pylint: disable=protected-access

    def _convert_to_request_dict(self, api_params, operation_model, *args, **kwargs):
        seen.params = api_params  # after the before-parameter-build handlers
        return convert(self, api_params, operation_model, *args, **kwargs)

    def _make_api_call(self, operation_name, api_params):
        started = time.time()
        seen.params = None
        error = None
        result = None
        try:
            result = make_call(self, operation_name, api_params)
            return result
        except Exception as exc:  # recorded, then re-raised unchanged
            response = getattr(exc, "response", None) or {}
            error = {
                "code": (response.get("Error") or {}).get("Code") or type(exc).__name__,
                "message": str((response.get("Error") or {}).get("Message") or exc)[:300],
            }
            raise
        finally:
            try:
                model = self.meta.service_model
                params = seen.params if seen.params is not None else api_params
                try:
                    shape = model.operation_model(operation_name).input_shape
                except Exception:  # pylint: disable=broad-except
                    shape = None
                _write(
                    {
                        "service": model.service_name,
                        "operation": operation_name,
                        "region": self.meta.region_name,
                        "endpoint": self.meta.endpoint_url,
                        "params": redact(shape, params),
                        "error": error,
                        "result": _result_ids(result) if result and operation_name.startswith(_CREATES) else None,
                        "time": started,
                        "pid": os.getpid(),
                        "caller": _caller(),
                        "playbook": _playbook(),
                    }
                )
            except Exception as exc:  # pylint: disable=broad-except  # never break the code under test
                sys.stderr.write("megapool call recorder: %s\n" % exc)

    base._convert_to_request_dict = _convert_to_request_dict  # pylint: disable=protected-access
    base._make_api_call = _make_api_call  # pylint: disable=protected-access
    base._megapool_recorded = True


class _BotocoreHook:
    """Meta-path finder: patch ``botocore.client`` right after it is first imported."""

    def find_spec(self, name, path=None, target=None):  # pylint: disable=unused-argument
        if name != "botocore.client":
            return None
        import importlib.util  # pylint: disable=import-outside-toplevel

        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        original = spec.loader.exec_module

        def exec_module(module):
            original(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


def _reset_marker() -> None:
    """`scripts/emulator.py reset` wipes the emulator: note it, with its endpoint."""
    import time  # pylint: disable=import-outside-toplevel

    argv = sys.argv
    port = os.environ.get("MEGAPOOL_EMULATOR_PORT") or "5000"
    if "--port" in argv[:-1]:
        port = argv[argv.index("--port") + 1]
    _write({"event": "reset", "endpoint": "http://127.0.0.1:%s" % port, "time": time.time(), "pid": os.getpid()})


def _install() -> None:
    argv = getattr(sys, "argv", None) or [""]
    if argv[0].endswith("emulator.py"):
        if "reset" in argv[1:2]:
            _reset_marker()
        return  # the emulator itself (moto server) is not the code under test
    if "botocore.client" in sys.modules:
        _patch(sys.modules["botocore.client"])
    else:
        sys.meta_path.insert(0, _BotocoreHook())


if _LOG:
    try:
        _install()
    except Exception as _exc:  # pylint: disable=broad-except
        sys.stderr.write("megapool call recorder not installed: %s\n" % _exc)
