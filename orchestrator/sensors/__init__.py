"""The sensors: ``task_sensor`` (waiting tasks become runs), ``simulation_failure_sensor`` (a dead
run's task goes back to the queue), ``estimates_sensor`` (new results refresh the roll-ups) and
``allocation_sensor`` (more sampling where it lowers a network's uncertainty most)."""

from orchestrator.sensors.allocation import allocation_decisions, allocation_sensor
from orchestrator.sensors.estimates import estimates_sensor
from orchestrator.sensors.failures import handle_failed_run, simulation_failure_sensor
from orchestrator.sensors.tasks import run_key, run_request, task_sensor

__all__ = [
    "allocation_decisions",
    "allocation_sensor",
    "estimates_sensor",
    "handle_failed_run",
    "run_key",
    "run_request",
    "simulation_failure_sensor",
    "task_sensor",
]
