# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base class of every megapool.aws module, and argument specs the modules share."""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.common import set_collection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

MEGAPOOL_AWS_COLLECTION_NAME = "megapool.aws"
# Keep in step with galaxy.yml (a unit test checks it).
MEGAPOOL_AWS_COLLECTION_VERSION = "0.1.0"

# The amazon.aws.tags doc fragment documents these two options.
TAGS_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
}


class MegapoolAWSModule(AnsibleAWSModule):
    """amazon.aws ``AnsibleAWSModule`` that identifies itself as ``megapool.aws/<version>`` to AWS.

    amazon.aws builds the botocore user agent of every client from its collection info
    (``APN/1.0 Ansible/<core> <collection>/<version>``); this sets that info to this collection.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        set_collection_info(
            collection_name=MEGAPOOL_AWS_COLLECTION_NAME,
            collection_version=MEGAPOOL_AWS_COLLECTION_VERSION,
        )
