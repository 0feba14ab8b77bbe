# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's AWS retry policy for the connection settings of a play (module_utils/retry_policy.py decides it)."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _aws_retry_policy(connection):
    from ansible_collections.megapool.aws.plugins.module_utils.retry_policy import with_retry_policy

    if connection is None:
        connection = {}
    if not isinstance(connection, Mapping):
        raise AnsibleFilterError(
            "aws_retry_policy: the AWS connection settings (megapool_aws) must be a dictionary, got %r" % (connection,)
        )
    try:
        return dict(connection, aws_config=with_retry_policy(connection.get("aws_config")))
    except (TypeError, ValueError) as error:
        raise AnsibleFilterError("megapool_aws.aws_config: %s" % error) from error


class FilterModule:
    """megapool.aws connection filters."""

    def filters(self):
        return {"aws_retry_policy": _aws_retry_policy}
