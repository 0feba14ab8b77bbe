# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters every role uses on its inputs; the logic lives in module_utils.role_inputs."""

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

try:  # ansible-core 2.19+: a vaulted value is an EncryptedString; VaultHelper gives its ciphertext without decrypting.
    from ansible.parsing.vault import VaultHelper
except ImportError:  # pragma: no cover - ansible-core < 2.19: AnsibleVaultEncryptedUnicode keeps it in _ciphertext.
    VaultHelper = None

# module_utils are imported in the filters: ansible-core loads every filter file of the collection in each worker
# process that resolves one of them (docs/benchmarks.md, "Warm workers").


def _ciphertext(value):
    if VaultHelper is not None:
        return VaultHelper.get_ciphertext(value, with_tags=False)
    text = getattr(value, "_ciphertext", None)
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _without_secrets(value):
    """A vault-encrypted value is fingerprinted by its ciphertext: the digest never depends on a decrypted secret."""
    ciphertext = _ciphertext(value)
    if ciphertext:
        return {"__vault__": ciphertext}
    if isinstance(value, Mapping):
        return {key: _without_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_secrets(item) for item in value]
    return value


def _environment_hosts(groups, megapool_regions=None, play_hosts=None):
    from ansible_collections.megapool.aws.plugins.module_utils.role_inputs import environment_hosts

    try:
        return environment_hosts(groups or {}, megapool_regions, play_hosts)
    except ValueError as exc:
        raise AnsibleFilterError("environment_hosts: %s" % exc) from None


def _inputs_fingerprint(names, values=None):
    """``names`` and ``values`` side by side (``query('ansible.builtin.varnames', ...)`` and
    ``query('ansible.builtin.vars', *names)``), or one mapping."""
    from ansible_collections.megapool.aws.plugins.module_utils.role_inputs import inputs_fingerprint

    if values is None:
        mapping = names
    else:
        names, values = list(names or []), list(values or [])
        if len(names) != len(values):
            raise AnsibleFilterError("inputs_fingerprint: %d names but %d values" % (len(names), len(values)))
        mapping = dict(zip(names, values))
    try:
        return inputs_fingerprint(_without_secrets(mapping))
    except ValueError as exc:
        raise AnsibleFilterError("inputs_fingerprint: %s" % exc) from None


class FilterModule:
    """megapool.aws filters on the roles' inputs."""

    def filters(self):
        return {"environment_hosts": _environment_hosts, "inputs_fingerprint": _inputs_fingerprint}
