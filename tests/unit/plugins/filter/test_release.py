# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release filters: revisions of a family.

(The summary of health probes moved to module_utils.http_probe: tests/unit/plugins/modules/test_http_probe.py.)
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.megapool.aws.plugins.filter.release import release_revisions


def test_release_revisions_lists_every_revision():
    assert release_revisions(["shop-web", 3]) == [["shop-web", 1], ["shop-web", 2], ["shop-web", 3]]
    assert release_revisions(["shop-web", "2"]) == [["shop-web", 1], ["shop-web", 2]]
    assert release_revisions(["shop-web", 0]) == []


def test_release_revisions_refuses_other_input():
    with pytest.raises(AnsibleFilterError, match="expects \\[family, latest revision\\]"):
        release_revisions(["shop-web"])
