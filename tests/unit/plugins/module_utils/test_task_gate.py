# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration gate's pure helpers: task records and the task's age in the progress lines."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.megapool.aws.plugins.module_utils.task_gate import progress_line
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_age
from ansible_collections.megapool.aws.plugins.module_utils.task_gate import task_view

UTC = datetime.timezone.utc
CREATED = datetime.datetime(2026, 11, 22, 7, 0, 0, tzinfo=UTC)
NOW = CREATED + datetime.timedelta(seconds=42)


def _raw(**extra) -> dict:
    return dict(
        {"taskArn": "arn:aws:ecs:eu-north-1:123456789012:task/shop/abc123", "lastStatus": "RUNNING", "desiredStatus": "RUNNING",
         "createdAt": CREATED, "containers": [{"name": "migrate", "lastStatus": "RUNNING"}]},
        **extra,
    )


@pytest.mark.parametrize(
    "raw, fallback, age",
    [
        (_raw(), 3.0, 42.0),  # running: from creation to now, whatever the call's own clock says
        (_raw(lastStatus="STOPPED", stoppedAt=CREATED + datetime.timedelta(seconds=7)), 3.0, 7.0),  # stopped: frozen
        (_raw(createdAt=None), 3.0, 3.0),  # no creation time: the call's own elapsed time
        (_raw(createdAt=NOW + datetime.timedelta(seconds=5)), 3.0, 0.0),  # clock skew never gives a negative age
    ],
)
def test_task_age(raw, fallback, age):
    assert task_age(task_view(raw, "migrate"), NOW, fallback) == age


def test_view_keeps_times_as_iso_strings_and_the_progress_uses_the_age():
    view = task_view(_raw(lastStatus="STOPPED", stoppedAt=CREATED + datetime.timedelta(seconds=7)), "migrate")
    assert (view["created_at"], view["stopped_at"]) == ("2026-11-22T07:00:00+00:00", "2026-11-22T07:00:07+00:00")
    assert progress_line(view, task_age(view, NOW, 0.0)).startswith("task abc123 STOPPED (desired RUNNING) after 7s")
