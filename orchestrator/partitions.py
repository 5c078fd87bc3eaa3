"""One dynamic partition per task: the partition key is the task's key in the index."""

from dagster import DynamicPartitionsDefinition

tasks_partitions = DynamicPartitionsDefinition(name="tasks")
