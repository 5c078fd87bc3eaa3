"""One worker running one task: ``python tests/run_task_worker.py MONGO_URL DB KEY WORK_ROOT OBJECTS RUN_ID``.

A process of its own (the protocol's reporters want the main thread, and a worker is a process):
runs :func:`fepflow.runner.execute_task` slowly (a pause after each progress report), printing
``progress <done> <total>`` lines, and ends with ``outcome published`` (exit 0), ``outcome
TaskCancelled: ...`` (exit 3, the claim was lost) or ``outcome <error>`` (exit 1).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fepflow.runner import TaskCancelled, execute_task
from fepflow.store.index import Index
from fepflow.store.objects import FileObjectStore


def main(url: str, db: str, key: str, work_root: str, objects: str, run_id: str) -> int:
    def paced(unit: str, done: int, total: int) -> None:
        print(f"progress {done} {total}", flush=True)
        time.sleep(0.05)

    index = Index.connect(url, db)
    try:
        execute_task(index, FileObjectStore(objects, fsync=False), key, work_root=Path(work_root), run_id=run_id,
                     heartbeat_s=0.5, stale_after_s=1.0, progress=paced)  # fmt: skip
    except TaskCancelled as exc:
        print(f"outcome TaskCancelled: {exc}", flush=True)
        return 3
    except Exception as exc:
        print(f"outcome {type(exc).__name__}: {exc}", flush=True)
        return 1
    finally:
        index.close()
    print("outcome published", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:7]))
