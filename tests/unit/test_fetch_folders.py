"""Folder names of fetched results: by transformation name and repeat, portable and unique."""

from __future__ import annotations

from fepflow.hub.folders import MAX_NAME, safe_name, task_folders


def _key(kind: str, digit: str) -> str:
    return f"{kind}-{digit * 64}"


def test_names_are_portable() -> None:
    assert safe_name("hydration of methanol") == "hydration_of_methanol"
    assert safe_name("lig-1 -> lig 2 (complex)") == "lig-1_to_lig_2_complex"
    assert safe_name("benzène → toluène") == "benzene_to_toluene"
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("CON") == "" and safe_name("///") == ""
    assert len(safe_name("x" * 500)) == MAX_NAME


def test_folders_are_unique_per_task() -> None:
    tasks = [
        {
            "task": _key("Task", "1"),
            "transformation": _key("Transformation", "a"),
            "transformation_name": "A x",
            "repeat": 0,
        },
        {
            "task": _key("Task", "2"),
            "transformation": _key("Transformation", "a"),
            "transformation_name": "A x",
            "repeat": 1,
        },
        {
            "task": _key("Task", "3"),
            "transformation": _key("Transformation", "b"),
            "transformation_name": "a/x",
            "repeat": 0,
        },
        {
            "task": _key("Task", "4"),
            "transformation": _key("Transformation", "c"),
            "transformation_name": None,
            "repeat": 0,
        },
    ]
    folders = task_folders(tasks)
    assert folders[_key("Task", "2")] == "A_x.aaaaaaaaaaaa.repeat-1"  # 'A x' and 'a/x' clash (case too)
    assert folders[_key("Task", "3")] == "a_x.bbbbbbbbbbbb.repeat-0"
    assert folders[_key("Task", "4")] == "cccccccccccc.repeat-0"  # no name: its short key
    assert len({f.lower() for f in folders.values()}) == len(tasks)
    alone = task_folders([tasks[0] | {"transformation_name": "hydration of methanol"}])
    assert alone == {_key("Task", "1"): "hydration_of_methanol.repeat-0"}
