# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes every megapool.aws AWS module shares: ``megapool.aws.attributes`` (modules that change AWS) and
``megapool.aws.attributes.info`` (read-only modules: no diff)."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Use as ``extends_documentation_fragment: [megapool.aws.attributes]``."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  action_group:
    description: Use C(group/megapool.aws.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - megapool.aws.aws
"""

    # Read-only modules: they change nothing, so they have no diff. A literal on purpose: ansible-test's yamllint
    # reads doc fragments from the source and accepts only string literals (no shared template).
    INFO = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  action_group:
    description: Use C(group/megapool.aws.aws) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - megapool.aws.aws
"""
