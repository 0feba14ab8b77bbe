# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""benchmarks/converge.py --compare: the peer gets the same regions and VPC CIDRs as the collection, and the module
processes are counted exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))

import converge  # noqa: E402  pylint: disable=wrong-import-position,import-error


def _hosts(path: str) -> dict:
    return yaml.safe_load((Path(path) / "hosts.yml").read_text(encoding="utf-8"))["regions"]["hosts"]


@pytest.mark.parametrize("regions", [1, 2, 4])
def test_the_peer_gets_the_regions_and_cidrs_of_the_collection(tmp_path, regions):
    ours = _hosts(converge.make_inventory(regions, str(tmp_path)))
    peer = _hosts(converge.make_peer_inventory(regions, str(tmp_path)))

    assert len(peer) == regions
    assert {name: values["peer_vpc_cidr"] for name, values in peer.items()} == {
        name: values["network_vpc_cidr"] for name, values in ours.items()
    }


def test_the_counting_interpreter_counts_each_start_and_is_the_venv_python(tmp_path):
    wrapper, count_file = converge.counting_interpreter(str(tmp_path))

    outputs = [
        subprocess.run(
            [wrapper, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
        ).stdout
        for _run in range(3)
    ]

    assert converge._lines(count_file) == 3  # pylint: disable=protected-access
    assert set(outputs) == {sys.prefix + "\n"}


def test_result_lines_count_ok_and_changed_not_skipped():
    output = (
        "ok: [eu-north-1]\nchanged: [us-east-1] => (item=a)\nskipping: [eu-north-1]\nfatal: [x]: FAILED!\nok: [b]\n"
    )
    assert len(converge.RESULT_LINE.findall(output)) == 3
