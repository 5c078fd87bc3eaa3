"""The error raised when a molecule cannot be parameterised or a system cannot be built."""

from __future__ import annotations

from typing import Any

LOG_TAIL_LINES = 30


def tail(text: str, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` non-empty-trailing lines of ``text``.

    Parameters
    ----------
    text : str
        A tool's output.
    lines : int
        How many lines to keep.

    Returns
    -------
    str
        The tail, without trailing blank lines.
    """
    kept = text.rstrip().splitlines()[-lines:] if text.strip() else []
    return "\n".join(kept)


class ParameterizationError(RuntimeError):
    """An AmberTools step (or conformer generation) failed for one molecule.

    Parameters
    ----------
    molecule : str
        The molecule's name.
    tool : str
        The program that failed: ``antechamber``, ``parmchk2``, ``sqm``, ``tleap`` (or ``rdkit`` for
        conformer generation).
    reason : str
        What went wrong, in a sentence.
    log_tail : str
        The last lines of the tool's output (and of ``sqm.out`` where antechamber ran sqm).

    Attributes
    ----------
    molecule, tool, reason, log_tail : str
        As given; ``str(error)`` names the molecule and the tool and ends with the log tail.
    """

    def __init__(self, molecule: str, tool: str, reason: str, log_tail: str = "") -> None:
        self.molecule = molecule
        self.tool = tool
        self.reason = reason
        self.log_tail = log_tail
        message = f"{tool} failed for molecule {molecule!r}: {reason}"
        if log_tail:
            message += f"\n--- last lines of {tool}'s output ---\n{log_tail}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-style constructor: make pickling (process pools, orchestrators) round-trip
        return (type(self), (self.molecule, self.tool, self.reason, self.log_tail))
