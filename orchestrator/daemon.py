"""``dagster-daemon`` whose sensor loop turns as often as the task sensor's interval.

Dagster's sensor daemon wakes every 5 s (``MIN_INTERVAL_LOOP_TIME``, a module constant with no
setting) and evaluates each sensor whose ``minimum_interval_seconds`` has passed. A task sensor
interval under 5 s is therefore rounded up to 5 s, and a tick that comes a moment early waits a
whole loop more (10 s). A submission waits half of that on average before its run is even
requested: the largest share of submission -> first simulation step on an idle machine.

This entry point lowers the loop's period to ``FEPFLOW_ORCHESTRATOR_SENSOR_INTERVAL_S`` (read when
the daemon starts; never above Dagster's 5 s) and then runs Dagster's own daemon command line with
the same arguments. Each loop costs one read of the sensors' states from the instance storage.

    python -m orchestrator.daemon run -w workspace.yaml
"""

from dagster._daemon import sensor as sensor_daemon
from dagster._daemon.cli import cli as dagster_daemon_cli

from fepflow.settings import OrchestratorSettings


def sensor_loop_s() -> float:
    """The sensor loop's period: the task sensor's interval, at most Dagster's default."""
    return float(min(sensor_daemon.MIN_INTERVAL_LOOP_TIME, OrchestratorSettings().sensor_interval_s))


def main() -> None:
    sensor_daemon.MIN_INTERVAL_LOOP_TIME = sensor_loop_s()  # type: ignore[assignment]
    dagster_daemon_cli(obj={}, prog_name="dagster-daemon")


if __name__ == "__main__":
    main()
