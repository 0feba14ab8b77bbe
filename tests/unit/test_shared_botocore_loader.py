# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tests/unit/conftest.py: every botocore Session of the test process reads the service models through one loader, so
a module run in-process (amazon.aws's boto3_conn: a new Session per client) does not parse ec2's model again."""

from __future__ import annotations

from pathlib import Path

import boto3
import botocore.loaders


def test_sessions_share_one_loader_and_its_parsed_models():
    first = boto3.session.Session(region_name="eu-north-1")._session
    second = boto3.session.Session(region_name="ap-southeast-1")._session
    assert first.get_component("data_loader") is second.get_component("data_loader")
    assert first.get_service_model("ec2").operation_model("DescribeVpcs") is not None
    # the second Session's model is the same parsed document, not a second parse
    assert first.get_component("data_loader").load_service_model("ec2", "service-2") is second.get_component(
        "data_loader"
    ).load_service_model("ec2", "service-2")


def test_the_shared_loader_has_botocore_s_and_boto3_s_search_paths_once():
    for _session in range(3):
        shared = boto3.session.Session()._session.get_component("data_loader")
    expected = botocore.loaders.create_loader().search_paths + [str(Path(boto3.__file__).parent / "data")]
    assert list(shared.search_paths) == expected
