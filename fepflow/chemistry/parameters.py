"""The parameters of one ligand (:class:`LigandParameters`) and their JSON cache."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fepflow.chemistry.mol2 import Mol2, parse_mol2

logger = logging.getLogger(__name__)

Forcefield = Literal["gaff2", "gaff"]
ChargeMethod = Literal["am1bcc", "published"]
FORCEFIELDS = ("gaff2", "gaff")
CHARGE_METHODS = ("am1bcc", "published")
CACHE_FORMAT = "fepflow.LigandParameters/1"
RESIDUE_NAME = "LIG"


@dataclass(frozen=True)
class LigandParameters:
    """A ligand's force-field parameters, ready for tleap.

    Attributes
    ----------
    name : str
        The molecule's name.
    molecule_key : str
        The :class:`SmallMoleculeComponent` key (or ``amber:<file name>`` for published files).
    forcefield : {"gaff2", "gaff"}
        Which GAFF the atom types and frcmod belong to (tleap sources ``leaprc.<forcefield>``).
    charge_method : {"am1bcc", "published"}
        Where the partial charges come from.
    net_charge : int
        The molecule's net charge.
    mol2 : str
        MOL2 text: one residue ``LIG``, GAFF atom types, partial charges, coordinates (Å), bonds.
    frcmod : str
        parmchk2's (or the published) frcmod text: parameters GAFF itself lacks.
    provenance : str
        Tools and versions that made these parameters, for the record.
    """

    name: str
    molecule_key: str
    forcefield: str
    charge_method: str
    net_charge: int
    mol2: str
    frcmod: str
    provenance: str = ""

    @property
    def parsed(self) -> Mol2:
        """The MOL2 parsed into atoms and bonds."""
        return parse_mol2(self.mol2)

    @property
    def n_atoms(self) -> int:
        return len(self.parsed.atoms)

    @property
    def charges(self) -> list[float]:
        return self.parsed.charges

    @property
    def atom_types(self) -> list[str]:
        return self.parsed.atom_types

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, tagged with the cache format."""
        return {"format": CACHE_FORMAT, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LigandParameters:
        """The inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            Another format tag, or missing fields.
        """
        if data.get("format") != CACHE_FORMAT:
            raise ValueError(f"not a {CACHE_FORMAT} record (format={data.get('format')!r})")
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if n not in data and n != "provenance"]
        if missing:
            raise ValueError(f"LigandParameters record lacks {', '.join(missing)}")
        values = {n: data[n] for n in names if n in data}
        values["net_charge"] = int(values["net_charge"])
        return cls(**values)


def cache_path(cache_dir: Path, molecule_key: str, forcefield: str, charge_method: str) -> Path:
    """Where the parameters of one (molecule, force field, charge method) are cached."""
    return Path(cache_dir) / f"{forcefield}-{charge_method}-{molecule_key}.json"


def read_cache(path: Path, key: str, forcefield: str, charge_method: str) -> LigandParameters | None:
    """The cached parameters at ``path``, or None when absent, unreadable or for something else."""
    if not path.is_file():
        return None
    try:
        params = LigandParameters.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("ignoring unreadable ligand cache %s: %s", path, exc)
        return None
    if (params.molecule_key, params.forcefield, params.charge_method) != (key, forcefield, charge_method):
        logger.warning("ignoring ligand cache %s: it holds another molecule or method", path)
        return None
    return params


def write_cache(path: Path, params: LigandParameters) -> None:
    """Write atomically: a reader sees the old file, or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(params.to_dict(), handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
