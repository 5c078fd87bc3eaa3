"""Task states and the one table of allowed transitions between them.

waiting -> scheduled -> running -> complete | error
error -> waiting (retry)
waiting | scheduled | running | error -> cancelled
"""

from __future__ import annotations

from enum import StrEnum


class TaskStatus(StrEnum):
    WAITING = "waiting"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    COMPLETE = "complete"
    ERROR = "error"
    CANCELLED = "cancelled"


ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.WAITING: frozenset({TaskStatus.SCHEDULED, TaskStatus.CANCELLED}),
    TaskStatus.SCHEDULED: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED}),
    TaskStatus.RUNNING: frozenset({TaskStatus.COMPLETE, TaskStatus.ERROR, TaskStatus.CANCELLED}),
    TaskStatus.ERROR: frozenset({TaskStatus.WAITING, TaskStatus.CANCELLED}),
    TaskStatus.COMPLETE: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}

TERMINAL = frozenset(state for state, targets in ALLOWED.items() if not targets)


class InvalidTransition(ValueError):
    """A transition the state machine does not allow."""

    def __init__(self, task: str, current: str, requested: str) -> None:
        self.task, self.current, self.requested = task, current, requested
        allowed = ", ".join(sorted(ALLOWED.get(TaskStatus(current), ()))) if current in _VALUES else ""
        hint = f" (from {current} it may go to: {allowed})" if allowed else f" ({current} is final)"
        super().__init__(f"task {task}: cannot go from {current} to {requested}{hint}")


_VALUES = {s.value for s in TaskStatus}


def can_transition(current: TaskStatus | str, requested: TaskStatus | str) -> bool:
    return TaskStatus(requested) in ALLOWED[TaskStatus(current)]


def check_transition(task: str, current: TaskStatus | str, requested: TaskStatus | str) -> None:
    """Raise :class:`InvalidTransition` naming the task and both states unless the move is allowed."""
    if str(current) not in _VALUES or str(requested) not in _VALUES:
        raise InvalidTransition(task, str(current), str(requested))
    if not can_transition(current, requested):
        raise InvalidTransition(task, str(current), str(requested))


def sources_of(requested: TaskStatus | str) -> frozenset[TaskStatus]:
    """Every state from which ``requested`` may be reached."""
    target = TaskStatus(requested)
    return frozenset(state for state, targets in ALLOWED.items() if target in targets)
