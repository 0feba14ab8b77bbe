# -*- coding: utf-8 -*-

# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the two database modules share: ``database_instance`` (RDS for PostgreSQL, cross-region read replicas) and
``database_cluster`` (Aurora PostgreSQL global database).

- ``DATABASE_ARGUMENT_SPEC``: the options both have (their documentation is the ``megapool.aws.database`` doc fragment);
- ``DatabaseMember``: one region's member of the database, with what both do the same way: reading and waiting,
  the master password kept in an SSM SecureString (copied from the region that holds the original), and the Ecto
  connection URLs written to SSM parameters for the release's ``secrets``.
"""

import secrets
import string
import time
from datetime import datetime
from datetime import timezone
from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.megapool.aws.plugins.module_utils.base import TAGS_ARGUMENT_SPEC
from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import aws_call
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until
from ansible_collections.megapool.aws.plugins.module_utils.database_plan import url as ecto_url

DATABASE_ARGUMENT_SPEC: dict[str, Any] = dict(
    identifier=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    backup_retention=dict(type="int", default=7),
    backup_window=dict(type="str", default="03:00-03:30"),
    maintenance_window=dict(type="str", default="sun:04:00-sun:04:30"),
    performance_insights=dict(type="bool", default=False),
    parameter_group=dict(type="str", default=""),
    db_name=dict(type="str", default="megapool"),
    username=dict(type="str", default="megapool"),
    port=dict(type="int", default=5432),
    kms_key_id=dict(type="str", default="alias/aws/rds"),
    deletion_protection=dict(type="bool", default=True),
    iam_auth=dict(type="bool", default=False),
    subnet_group=dict(type="str"),
    security_group_ids=dict(type="list", elements="str", default=[]),
    apply_immediately=dict(type="bool", default=False),
    master_password_parameter=dict(type="str", no_log=False),
    master_password=dict(type="str", no_log=True),
    url_parameter=dict(type="str"),
    reader_url_parameter=dict(type="str"),
    skip_final_snapshot=dict(type="bool", default=False),
    final_snapshot_identifier=dict(type="str"),
    force_delete=dict(type="bool", default=False),
    delete_parameters=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=3600),
    poll_interval=dict(type="float", default=30),
    **TAGS_ARGUMENT_SPEC,
)

# Master passwords: RDS and Aurora take printable ASCII except / " @ and space, 8-128 characters (CreateDBInstance /
# CreateDBCluster MasterUserPassword); letters and digits only, so the password is also URL-safe in the Ecto URL.
PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 32

# The waits' clock (the unit tests replace both).
_clock = time.monotonic
_sleep = time.sleep


class DatabaseMember:
    """One region's member of a database: its clients, the events of the run, whether it changed anything.

    Its AWS calls go through the kernel's ``aws_call`` (``Could not <what>``); the module's ``main()`` hands the run to
    ``MegapoolAWSModule.run`` with ``failure_result=member.failure_result``, so a failure carries the events so far."""

    def __init__(self, module: Any):
        self.module = module
        self.params = module.params
        self.region = module.region
        self.rds = module.client("rds")
        self.ssm = module.client("ssm")
        self.events: list[str] = []
        self.changed = False

    def client(self, service: str, region: Optional[str] = None) -> Any:
        """The ``rds`` or ``ssm`` client of this region, or a new client (any service) of another region."""
        if (not region or region == self.region) and service in ("rds", "ssm"):
            return self.rds if service == "rds" else self.ssm
        return self.module.client(service, region=region or self.region)

    def failure_result(self) -> dict[str, Any]:
        """What a failed run reports besides the error (``MegapoolAWSModule.run``'s ``failure_result``)."""
        return {"events": self.events}

    @staticmethod
    def describe_first(
        what: str, method: Callable[..., Any], not_found: str, key: str, **kwargs: Any
    ) -> Optional[dict[str, Any]]:
        """The first item of ``method(**kwargs)[key]``, None when AWS answers ``not_found``."""
        answer = aws_call("read %s" % what, method, missing=[not_found], **kwargs)
        found = answer[key] if answer is not None else None
        return found[0] if found else None

    def poll(
        self, read: Callable[[], Any], status: Callable[[Any], str], done: Callable[[Any], bool], name: str, what: str
    ) -> Any:
        """Call ``read()`` every ``poll_interval`` until ``done(value)``; each new ``status(value)`` is an event; fail
        after ``wait_timeout`` naming the last status."""
        last: list[Optional[str]] = [None]

        def progress(value: Any, _waited: float) -> None:
            current = status(value)
            if current != last[0]:
                self.events.append("%s %s: %s" % (name, what, current))
                last[0] = current

        try:
            return poll_until(
                read,
                done,
                what="%s to become %s" % (name, what),
                timeout=self.params["wait_timeout"],
                interval=self.params["poll_interval"],
                progress=progress,
                clock=_clock,
                sleep=_sleep,
            )
        except WaitTimeout as timed_out:
            self.module.fail_json(
                msg="%s did not become %s within %d s (last status %s); run again to keep waiting"
                % (name, what, self.params["wait_timeout"], status(timed_out.last)),
                events=self.events,
            )
        return None

    def refuse_if_protected(self, described: Optional[dict[str, Any]]) -> None:
        """Fail when the instance or cluster to delete has deletion protection on and ``force_delete`` is off."""
        if described and described.get("DeletionProtection") and not self.params["force_delete"]:
            self.module.fail_json(
                msg="%s in %s has deletion protection on: set database_deletion_protection: false and run site.yml first, "
                "or pass database_force_delete=true to remove it anyway" % (self.params["identifier"], self.region)
            )

    def final_snapshot_name(self, identifier: str) -> str:
        """``final_snapshot_identifier``, else ``<identifier>-final-<UTC time>``."""
        return self.params["final_snapshot_identifier"] or "%s-final-%s" % (
            identifier,
            datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S"),
        )

    # ------------------------------------------------------------------ SSM parameters
    def get_parameter(self, name: str, ssm: Any = None) -> Optional[dict[str, Any]]:
        answer = aws_call(
            "read the SSM parameter %s" % name,
            (ssm or self.ssm).get_parameter,
            missing=["ParameterNotFound"],
            Name=name,
            WithDecryption=True,
        )
        return answer["Parameter"] if answer is not None else None

    def put_secure(self, name: str, value: str, existing: Optional[dict[str, Any]]) -> None:
        """Write a SecureString parameter unless it holds ``value`` already (tagged when new)."""
        if existing is not None and existing.get("Value") == value:
            return
        self.changed = True
        self.events.append("SSM parameter %s %s" % (name, "updated" if existing else "created"))
        if self.module.check_mode:
            return
        args: dict[str, Any] = dict(Name=name, Value=value, Type="SecureString")
        if existing is None:
            tags = [{"Key": k, "Value": str(v)} for k, v in (self.params["tags"] or {}).items()]
            if tags:
                args["Tags"] = tags
        else:
            args["Overwrite"] = True
        aws_call("write the SSM parameter %s" % name, self.ssm.put_parameter, **args)

    def master_password(self, source_region: Optional[str], source: str) -> Optional[str]:
        """The master password, made present in this region's parameter (``master_password_parameter``).

        The writer's region (``source_region`` None) keeps the one it has, or stores ``master_password`` or a new random
        one; a reader's region copies the parameter of ``source_region`` (``source`` names it in the error). None in
        check mode before the source region has it."""
        name = self.params["master_password_parameter"]
        here = self.get_parameter(name)
        if source_region:
            there = self.get_parameter(name, self.client("ssm", source_region))
            if there is None:
                if here is not None:
                    return here["Value"]
                if self.module.check_mode:
                    return None  # the source region has not been built yet (check mode on an empty account)
                self.module.fail_json(
                    msg="The master password parameter %s is missing in the %s %s" % (name, source, source_region)
                )
            self.put_secure(name, there["Value"], here)
            return there["Value"]
        if here is not None:
            return here["Value"]
        value = self.params["master_password"] or "".join(
            secrets.choice(PASSWORD_ALPHABET) for _position in range(PASSWORD_LENGTH)
        )
        self.put_secure(name, value, None)
        return value

    def write_urls(self, password: Optional[str], writer: Optional[tuple], reader: Optional[tuple]) -> None:
        """The Ecto URLs of the writer and the reader endpoint (``(host, port)`` each, None when not known yet) into
        ``url_parameter`` / ``reader_url_parameter``."""
        p = self.params
        for name, endpoint in ((p["url_parameter"], writer), (p["reader_url_parameter"], reader)):
            if not name:
                continue
            if password is None or not endpoint or not endpoint[0]:
                self.changed = True  # check mode on a new database: the URL will be written
                self.events.append("SSM parameter %s will be written" % name)
                continue
            self.put_secure(
                name,
                ecto_url(p["username"], password, endpoint[0], endpoint[1], p["db_name"]),
                self.get_parameter(name),
            )

    def parameter_arns(self) -> dict[str, str]:
        """ARNs of the password and URL parameters that exist (``master_password``, ``url``, ``reader_url``)."""
        out = {}
        for key, option in (
            ("master_password", "master_password_parameter"),
            ("url", "url_parameter"),
            ("reader_url", "reader_url_parameter"),
        ):
            found = self.get_parameter(self.params[option]) if self.params[option] else None
            if found:
                out[key] = found["ARN"]
        return out

    def delete_parameters(self) -> None:
        """Delete the password and URL parameters that exist (``delete_parameters``)."""
        for option in ("url_parameter", "reader_url_parameter", "master_password_parameter"):
            name = self.params[option]
            if not name or self.get_parameter(name) is None:
                continue
            self.changed = True
            self.events.append("SSM parameter %s deleted" % name)
            if not self.module.check_mode:
                aws_call(
                    "delete the SSM parameter %s" % name,
                    self.ssm.delete_parameter,
                    missing=["ParameterNotFound"],  # gone meanwhile: done
                    Name=name,
                )
