"""The task state machine: every allowed move, every refused one, and messages that say why."""

from __future__ import annotations

import itertools

import pytest

from fepflow.models import InvalidTransition, TaskStatus, check_transition
from fepflow.models.states import ALLOWED, TERMINAL, sources_of

S = TaskStatus
EXPECTED = {
    (S.WAITING, S.SCHEDULED),
    (S.SCHEDULED, S.RUNNING),
    (S.RUNNING, S.COMPLETE),
    (S.RUNNING, S.ERROR),
    (S.ERROR, S.WAITING),
    (S.WAITING, S.CANCELLED),
    (S.SCHEDULED, S.CANCELLED),
    (S.RUNNING, S.CANCELLED),
    (S.ERROR, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(S, S)))
def test_exactly_the_designed_transitions_are_allowed(current: TaskStatus, requested: TaskStatus) -> None:
    if (current, requested) in EXPECTED:
        check_transition("Task-abc", current, requested)
    else:
        with pytest.raises(InvalidTransition) as err:
            check_transition("Task-abc", current, requested)
        assert "Task-abc" in str(err.value)
        assert f"from {current.value} to {requested.value}" in str(err.value)


def test_terminal_states_and_sources() -> None:
    assert {S.COMPLETE, S.CANCELLED} == TERMINAL
    assert sources_of(S.CANCELLED) == {S.WAITING, S.SCHEDULED, S.RUNNING, S.ERROR}
    assert sources_of(S.WAITING) == {S.ERROR}
    assert sum(len(v) for v in ALLOWED.values()) == len(EXPECTED)


def test_unknown_state_is_refused() -> None:
    with pytest.raises(InvalidTransition, match="to paused"):
        check_transition("Task-abc", "running", "paused")
