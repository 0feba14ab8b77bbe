# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options megapool.aws.database_instance and megapool.aws.database_cluster share (module_utils/database_common.py,
DATABASE_ARGUMENT_SPEC): ``megapool.aws.database``."""


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Use as ``extends_documentation_fragment: [megapool.aws.database]``."""

    DOCUMENTATION = r"""
options:
  state:
    description: V(present) creates or updates; V(absent) deletes.
    type: str
    choices: [present, absent]
    default: present
  backup_window:
    description: The daily backup window (UTC).
    type: str
    default: "03:00-03:30"
  maintenance_window:
    description: The weekly maintenance window (UTC).
    type: str
    default: "sun:04:00-sun:04:30"
  port:
    description: The port.
    type: int
    default: 5432
  kms_key_id:
    description: The KMS key of this region for storage encryption.
    type: str
    default: alias/aws/rds
  iam_auth:
    description: IAM database authentication.
    type: bool
    default: false
  subnet_group:
    description: The DB subnet group (private subnets).
    type: str
  security_group_ids:
    description: The VPC security groups.
    type: list
    elements: str
    default: []
  apply_immediately:
    description: Apply modifications now instead of in the maintenance window.
    type: bool
    default: false
  master_password:
    description: A password to seed O(master_password_parameter) with when it does not exist yet (keep it in a vault).
    type: str
  url_parameter:
    description: The SSM SecureString parameter (this region) to write the writer's Ecto URL to.
    type: str
  reader_url_parameter:
    description: The SSM SecureString parameter (this region) to write this region's reader Ecto URL to.
    type: str
  force_delete:
    description: With O(state=absent), turn deletion protection off first.
    type: bool
    default: false
  delete_parameters:
    description: With O(state=absent), delete the SSM parameters too.
    type: bool
    default: true
  poll_interval:
    description: Seconds between two polls.
    type: float
    default: 30
"""
