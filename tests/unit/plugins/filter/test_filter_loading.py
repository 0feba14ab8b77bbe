# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every worker process that resolves a ``megapool.aws`` filter loads every filter file of the collection (ansible-core's
``Jinja2Loader.get_with_context`` walks the package); nearly every task does (``module_defaults`` template
``megapool.aws.aws_retry_policy``). So loading the files imports no planner of module_utils and no botocore, and that
one filter imports no botocore either (docs/benchmarks.md, "Warm workers"). Checked in a new interpreter: the test
process has imported everything already."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

PROBE = """
import importlib, json, pkgutil, sys
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
_AnsibleCollectionFinder(paths=[sys.argv[1]])._install()
import ansible.template  # what a worker has imported before it resolves a filter
before = set(sys.modules)
package = importlib.import_module("ansible_collections.megapool.aws.plugins.filter")
names = [module.name for module in pkgutil.iter_modules(package.__path__, package.__name__ + ".")]
filters = {}
for name in names:
    filters.update(importlib.import_module(name).FilterModule().filters())
loaded = sorted(set(sys.modules) - before)
filters["aws_retry_policy"]({"region": "eu-north-1"})
called = sorted(set(sys.modules) - before - set(loaded))
print(json.dumps({"files": names, "filters": sorted(filters), "loaded": loaded, "called": called}))
"""


def test_loading_every_filter_file_imports_no_planner_and_aws_retry_policy_no_botocore():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT / ".collections")],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seen = json.loads(result.stdout)

    assert len(seen["files"]) > 10 and "aws_retry_policy" in seen["filters"] and len(seen["filters"]) > 50
    heavy = ("ansible_collections.megapool.aws.plugins.module_utils.", "botocore", "boto3")
    assert [name for name in seen["loaded"] if name.startswith(heavy)] == []
    assert [
        name for name in seen["called"] if name.startswith(("botocore", "boto3", "ansible_collections.amazon"))
    ] == []
    assert "ansible_collections.megapool.aws.plugins.module_utils.retry_policy" in seen["called"]
