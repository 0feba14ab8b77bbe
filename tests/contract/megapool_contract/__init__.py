# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Contract checks over the AWS requests the collection sends (recorded by tests/contract/recorder/sitecustomize.py).

- ``calllog``: read the JSON-lines call log;
- ``model_rules``: validate each request against the botocore service model, stricter than botocore's client-side
  ParamValidator, plus a cited supplement of documented constraints the shipped models lack;
- ``call_order``: ordering rules of a converge that only real AWS enforces;
- ``policies``: IAM policy documents linted with parliament.
"""
