# Copyright: megapool.aws contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The modules' one bounded wait (plugins/module_utils/base.py ``poll_until``), on a fake clock: nothing sleeps."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.megapool.aws.plugins.module_utils.base import WaitTimeout
from ansible_collections.megapool.aws.plugins.module_utils.base import backoff_pauses
from ansible_collections.megapool.aws.plugins.module_utils.base import poll_until


class Clock:
    """A clock that only moves when slept on; records the pauses and the reads' times."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


def _reader(clock: Clock, values: list[Any]):
    """read(): the next of ``values`` (the last one repeats), recording when each read happened."""
    reads: list[float] = []

    def read() -> Any:
        reads.append(clock.now - 100.0)
        return values[min(len(reads), len(values)) - 1]

    return read, reads


def test_returns_the_first_done_value_after_constant_pauses():
    clock = Clock()
    read, reads = _reader(clock, ["PENDING", "PENDING", "ISSUED", "never read"])
    seen: list[tuple[str, float]] = []

    value = poll_until(
        read,
        lambda v: v == "ISSUED",
        what="the certificate",
        timeout=60,
        interval=10,
        progress=lambda v, waited: seen.append((v, waited)),
        clock=clock.clock,
        sleep=clock.sleep,
    )

    assert value == "ISSUED"
    assert reads == [0, 10, 20] and clock.sleeps == [10, 10]
    assert seen == [("PENDING", 0), ("PENDING", 10), ("ISSUED", 20)]


def test_done_at_once_neither_sleeps_nor_reads_again():
    clock = Clock()
    read, reads = _reader(clock, ["ready"])
    assert poll_until(read, bool, what="x", timeout=5, interval=1, clock=clock.clock, sleep=clock.sleep) == "ready"
    assert reads == [0] and clock.sleeps == []


def test_first_is_checked_without_a_read():
    clock = Clock()
    read, reads = _reader(clock, ["read"])
    assert (
        poll_until(read, bool, what="x", timeout=5, interval=1, first="given", clock=clock.clock, sleep=clock.sleep)
        == "given"
    )
    assert reads == []


def test_timeout_reads_once_more_at_the_deadline_and_names_what_was_waited_for():
    clock = Clock()
    read, reads = _reader(clock, ["PENDING"])

    with pytest.raises(WaitTimeout) as raised:
        poll_until(
            read,
            lambda v: v == "SUCCESS",
            what="Cloud Map to create namespace app.local",
            timeout=25,
            interval=10,
            clock=clock.clock,
            sleep=clock.sleep,
        )

    assert clock.sleeps == [10, 10, 5], "the last pause ends at the deadline"
    assert reads == [0, 10, 20, 25]
    error = raised.value
    assert (error.what, error.timeout, error.last, error.waited) == (
        "Cloud Map to create namespace app.local",
        25,
        "PENDING",
        25,
    )
    assert str(error) == (
        "Timed out after wait_timeout=25s waiting for Cloud Map to create namespace app.local; "
        "raise wait_timeout, or run again to keep waiting."
    )


def test_a_zero_timeout_checks_once_and_fails_without_sleeping():
    clock = Clock()
    read, reads = _reader(clock, [False])
    with pytest.raises(WaitTimeout):
        poll_until(read, bool, what="x", timeout=0, interval=5, clock=clock.clock, sleep=clock.sleep)
    assert reads == [0] and clock.sleeps == []


def test_wait_false_checks_once_and_returns_the_value_not_done():
    clock = Clock()
    read, reads = _reader(clock, ["PENDING"])
    seen: list[Any] = []
    value = poll_until(
        read,
        lambda v: v == "SUCCESS",
        what="x",
        timeout=0,
        interval=5,
        wait=False,
        progress=lambda v, waited: seen.append(v),
        clock=clock.clock,
        sleep=clock.sleep,
    )
    assert value == "PENDING" and seen == ["PENDING"] and reads == [0] and clock.sleeps == []


def test_started_shares_one_deadline_between_phases():
    """A module that waits in two phases passes its start: the second phase only has what the first left."""
    clock = Clock()
    started = clock.now
    clock.now += 40  # the first phase took 40 s
    read, _reads = _reader(clock, [False])
    seen: list[float] = []
    with pytest.raises(WaitTimeout) as raised:
        poll_until(
            read,
            bool,
            what="x",
            timeout=60,
            interval=15,
            started=started,
            progress=lambda v, waited: seen.append(waited),
            clock=clock.clock,
            sleep=clock.sleep,
        )
    assert clock.sleeps == [15, 5]
    assert seen == [40, 55, 60] and raised.value.waited == 60


def test_a_schedule_of_pauses_is_followed_and_its_last_pause_repeats():
    clock = Clock()
    read, _reads = _reader(clock, [False])
    with pytest.raises(WaitTimeout):
        poll_until(read, bool, what="x", timeout=20, interval=[1, 2], clock=clock.clock, sleep=clock.sleep)
    assert clock.sleeps == [1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]


def test_the_service_linked_role_schedule_is_eight_attempts_in_74_seconds():
    """ecs_capacity_provider's schedule (2, 4, 8, 15, 15, 15, 15) within its sum: the same pauses as a loop over it."""
    clock = Clock()
    read, reads = _reader(clock, [False])
    schedule = (2, 4, 8, 15, 15, 15, 15)
    with pytest.raises(WaitTimeout):
        poll_until(read, bool, what="x", timeout=sum(schedule), interval=schedule, clock=clock.clock, sleep=clock.sleep)
    assert clock.sleeps == list(schedule) and len(reads) == 8


@pytest.mark.parametrize(
    "first, factor, cap, expected",
    [
        (1, 2, 15, [1, 2, 4, 8, 15, 15]),
        (2, 2, 15, [2, 4, 8, 15, 15, 15]),
        (5, 1, None, [5, 5, 5, 5, 5, 5]),
        (1, 3, None, [1, 3, 9, 27, 81, 243]),
    ],
)
def test_backoff_pauses(first, factor, cap, expected):
    assert list(itertools.islice(backoff_pauses(first, factor, cap), 6)) == expected


def test_progress_may_end_the_wait_by_raising():
    """A module fails from progress (a FAILED operation): the wait does not go on."""
    clock = Clock()
    read, reads = _reader(clock, ["PENDING", "FAIL"])

    def progress(value: str, waited: float) -> None:
        if value == "FAIL":
            raise RuntimeError("failed")

    with pytest.raises(RuntimeError):
        poll_until(
            read,
            lambda v: v == "SUCCESS",
            what="x",
            timeout=60,
            interval=5,
            progress=progress,
            clock=clock.clock,
            sleep=clock.sleep,
        )
    assert reads == [0, 5]


def test_the_default_clock_and_sleep_are_read_when_called(monkeypatch):
    """Without clock/sleep the wait uses time.monotonic and time.sleep as they are at the call (a patched time works)."""
    clock = Clock()
    monkeypatch.setattr("time.monotonic", clock.clock)
    monkeypatch.setattr("time.sleep", clock.sleep)
    read, _reads = _reader(clock, [False, True])
    assert poll_until(read, bool, what="x", timeout=10, interval=3) is True
    assert clock.sleeps == [3]


@given(
    timeout=st.integers(min_value=0, max_value=900),
    interval=st.floats(min_value=0.5, max_value=120, allow_nan=False),
    done_after=st.integers(min_value=0, max_value=50),
)
def test_never_waits_past_the_deadline_and_reads_once_per_pause(timeout, interval, done_after):
    clock = Clock()
    calls = []

    def read() -> bool:
        calls.append(clock.now)
        return len(calls) > done_after

    try:
        poll_until(read, bool, what="x", timeout=timeout, interval=interval, clock=clock.clock, sleep=clock.sleep)
        finished = True
    except WaitTimeout as error:
        finished = False
        assert error.waited == pytest.approx(timeout)
    assert sum(clock.sleeps) <= timeout + 1e-9
    assert len(calls) == len(clock.sleeps) + 1
    assert all(pause <= interval for pause in clock.sleeps)
    assert finished == (len(calls) == done_after + 1)
