# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""plugins/filter/role_inputs.py: environment_hosts and inputs_fingerprint as the roles call them."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible.parsing.vault import EncryptedString

from ansible_collections.megapool.aws.plugins.filter import role_inputs
from ansible_collections.megapool.aws.plugins.filter.role_inputs import FilterModule

FILTERS = FilterModule().filters()
CIPHERTEXT = "$ANSIBLE_VAULT;1.1;AES256\n" + "6162636465666768" * 8


def test_every_filter_is_documented():
    assert set(FILTERS) == {"environment_hosts", "inputs_fingerprint"}
    for name in FILTERS:
        assert (Path(role_inputs.__file__).parent / (name + ".yml")).is_file(), name


def test_environment_hosts():
    groups = {"all": ["a", "b"], "regions": ["b"]}
    assert FILTERS["environment_hosts"](groups, [], ["a", "b"]) == ["b"]
    assert FILTERS["environment_hosts"](groups, ["a"], ["b"]) == ["a"]
    assert FILTERS["environment_hosts"]({"all": ["a"]}, None, ["a"]) == ["a"]
    with pytest.raises(AnsibleFilterError, match="environment_hosts: megapool_regions must be a list"):
        FILTERS["environment_hosts"](groups, "a", [])


def test_names_and_values_side_by_side_equal_the_mapping():
    fingerprint = FILTERS["inputs_fingerprint"]
    assert fingerprint(["a", "b"], [1, [2]]) == fingerprint({"a": 1, "b": [2]})
    assert fingerprint(["a", "b"], [1, [2]]) != fingerprint(["a", "b"], [1, [3]])
    with pytest.raises(AnsibleFilterError, match="inputs_fingerprint: 2 names but 1 values"):
        fingerprint(["a", "b"], [1])
    with pytest.raises(AnsibleFilterError, match="takes a mapping"):
        fingerprint(["a", "b"])


def test_a_vaulted_value_counts_by_its_ciphertext_and_is_never_decrypted():
    """No vault secret is loaded here: decrypting would raise. Another ciphertext is another input."""
    fingerprint = FILTERS["inputs_fingerprint"]
    one = fingerprint({"database_master_password": EncryptedString(ciphertext=CIPHERTEXT), "x": [1]})
    assert one == fingerprint({"database_master_password": EncryptedString(ciphertext=CIPHERTEXT), "x": [1]})
    assert one != fingerprint({"database_master_password": EncryptedString(ciphertext=CIPHERTEXT + "00"), "x": [1]})
    nested = {"megapool_aws": {"aws_secret_key": EncryptedString(ciphertext=CIPHERTEXT)}}
    assert fingerprint(nested) == fingerprint(
        {"megapool_aws": {"aws_secret_key": EncryptedString(ciphertext=CIPHERTEXT)}}
    )
    # the vaulted value is not the same input as its ciphertext given as plain text
    assert one != fingerprint({"database_master_password": CIPHERTEXT, "x": [1]})
