"""Ligand force-field parameters: GAFF/GAFF2 types with AM1-BCC charges, or published AMBER files.

Both routes give a :class:`LigandParameters` (a MOL2 with atom types, charges and coordinates, plus a
frcmod), so one tleap path (:mod:`fepflow.chemistry.systems`) builds systems from either.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path

from fepflow.chemistry import amber
from fepflow.chemistry.amberfiles import read_inpcrd, read_prmtop_atoms
from fepflow.chemistry.conformers import generate_conformer, to_mol_block
from fepflow.chemistry.errors import ParameterizationError
from fepflow.chemistry.frcmod import frcmod_from_prmtop, frcmod_section
from fepflow.chemistry.graphs import component_order
from fepflow.chemistry.mol2 import Mol2, Mol2Atom, parse_mol2, write_mol2
from fepflow.chemistry.parameters import (
    FORCEFIELDS,
    RESIDUE_NAME,
    ChargeMethod,
    Forcefield,
    LigandParameters,
    cache_path,
    read_cache,
    write_cache,
)
from fepflow.models.components import SmallMoleculeComponent

logger = logging.getLogger(__name__)

__all__ = ["LigandParameters", "ligand_from_amber_files", "parameterize_ligand"]

_CHARGE_TOLERANCE = 0.02  # antechamber rounding; a larger gap is a real error


def parameterize_ligand(
    molecule: SmallMoleculeComponent,
    *,
    forcefield: Forcefield = "gaff2",
    charge_method: ChargeMethod = "am1bcc",
    cache_dir: Path | None = None,
    timeout_s: float = amber.DEFAULT_TIMEOUT_S,
) -> LigandParameters:
    """GAFF/GAFF2 atom types and AM1-BCC charges for one molecule (antechamber, sqm, parmchk2).

    The conformer is the molecule's own, or a deterministic ETKDG embedding
    (:func:`~fepflow.chemistry.conformers.generate_conformer`), so the same molecule always gives the
    same charges. With ``cache_dir`` the result is stored as JSON keyed by (molecule key, force
    field, charge method) and later calls return it without running any tool.

    Parameters
    ----------
    molecule : SmallMoleculeComponent
        The ligand; its formal charge is passed to antechamber as ``-nc``.
    forcefield : {"gaff2", "gaff"}
        Atom types and parmchk2 parameter set.
    charge_method : {"am1bcc"}
        Only AM1-BCC is computed here; published charges come from :func:`ligand_from_amber_files`.
    cache_dir : Path, optional
        Folder of cached parameters (created if needed).
    timeout_s : float
        Limit for each tool run; sqm's AM1 optimisation takes minutes for drug-sized molecules.

    Returns
    -------
    LigandParameters
        Named after ``molecule.name`` (also on a cache hit).

    Raises
    ------
    ValueError
        An unknown force field or charge method.
    ParameterizationError
        A tool failed, timed out, or produced parameters that do not add up (charges, missing GAFF
        parameters flagged by parmchk2).
    """
    if forcefield not in FORCEFIELDS:
        raise ValueError(f"unknown force field {forcefield!r}; use one of {FORCEFIELDS}")
    if charge_method != "am1bcc":
        raise ValueError(
            f"charge method {charge_method!r} cannot be computed; use 'am1bcc' "
            "(published charges come from ligand_from_amber_files)"
        )
    path = cache_path(cache_dir, molecule.key, forcefield, charge_method) if cache_dir else None
    if path is not None:
        cached = read_cache(path, molecule.key, forcefield, charge_method)
        if cached is not None:
            logger.info("parameters of %s from cache %s", molecule.name, path)
            return dataclasses.replace(cached, name=molecule.name)
    params = _run_antechamber(molecule, forcefield, timeout_s)
    if path is not None:
        write_cache(path, params)
    return params


def _run_antechamber(molecule: SmallMoleculeComponent, forcefield: str, timeout_s: float) -> LigandParameters:
    name, net_charge = molecule.name, molecule.formal_charge
    mol = generate_conformer(molecule)
    with tempfile.TemporaryDirectory(prefix="fepflow-antechamber-") as tmp:
        work = Path(tmp)
        (work / "ligand.sdf").write_text(to_mol_block(mol))
        ante_args = ["-fi", "mdl", "-i", "ligand.sdf", "-fo", "mol2", "-o", "ligand.mol2"]
        ante_args += ["-c", "bcc", "-at", forcefield, "-nc", str(net_charge), "-rn", RESIDUE_NAME]
        amber.run_tool(
            "antechamber",
            ante_args,
            cwd=work,
            molecule=name,
            timeout_s=timeout_s,
            outputs=["ligand.mol2"],
            extra_logs=["sqm.out"],
        )
        amber.run_tool(
            "parmchk2",
            ["-i", "ligand.mol2", "-f", "mol2", "-o", "ligand.frcmod", "-s", forcefield],
            cwd=work,
            molecule=name,
            timeout_s=timeout_s,
            outputs=["ligand.frcmod"],
        )
        mol2_text = (work / "ligand.mol2").read_text()
        frcmod = (work / "ligand.frcmod").read_text()
    parsed = parse_mol2(mol2_text)
    if len(parsed.atoms) != mol.GetNumAtoms():
        raise ParameterizationError(
            name, "antechamber", f"wrote {len(parsed.atoms)} atoms for a molecule of {mol.GetNumAtoms()}"
        )
    total = sum(parsed.charges)
    if abs(total - net_charge) > _CHARGE_TOLERANCE:
        raise ParameterizationError(
            name, "antechamber", f"charges sum to {total:.4f}, not the net charge {net_charge}"
        )
    if abs(total - net_charge) > 1e-6:
        mol2_text = _spread_charge_residual(parsed, net_charge)
        logger.info("%s: charges summed to %.6f; spread %+.6f evenly", name, total, net_charge - total)
    attn = [line.strip() for line in frcmod.splitlines() if "ATTN" in line]
    if attn:
        raise ParameterizationError(
            name,
            "parmchk2",
            f"{forcefield} lacks {len(attn)} parameter(s) for this molecule",
            "\n".join(attn[-30:]),
        )
    provenance = (
        f"antechamber -c bcc -at {forcefield}, parmchk2 ({amber.ambertools_version()}); "
        f"{amber.forcefield_version(forcefield)}"
    )
    return LigandParameters(
        name=name,
        molecule_key=molecule.key,
        forcefield=forcefield,
        charge_method="am1bcc",
        net_charge=net_charge,
        mol2=mol2_text,
        frcmod=frcmod,
        provenance=provenance,
    )


def _spread_charge_residual(parsed: Mol2, net_charge: int) -> str:
    """A MOL2 whose charges sum to ``net_charge``: antechamber's rounding residual spread evenly.

    antechamber writes AM1-BCC charges rounded so that they can miss the net charge by up to
    about 1e-3 e (acetate: -1.001); a non-integral net charge would bias PME.
    """
    n = len(parsed.atoms)
    shift = (net_charge - sum(parsed.charges)) / n
    charges = [round(a.charge + shift, 8) for a in parsed.atoms]
    charges[-1] = round(net_charge - sum(charges[:-1]), 8)
    atoms = [dataclasses.replace(a, charge=q) for a, q in zip(parsed.atoms, charges, strict=True)]
    return write_mol2(atoms, parsed.bonds, title=parsed.title, residue=RESIDUE_NAME, charge_type="bcc")


def ligand_from_amber_files(
    prmtop: Path,
    inpcrd: Path,
    frcmod: Path,
    *,
    name: str,
    forcefield: Forcefield = "gaff",
    molecule: SmallMoleculeComponent | None = None,
) -> LigandParameters:
    """Published AMBER parameters (e.g. FreeSolv's GAFF 1.x / AM1-BCC files) as LigandParameters.

    The prmtop's atom types (``AMBER_ATOM_TYPE``), charges (``CHARGE`` / 18.2223), names and bonds
    and the inpcrd's coordinates become a MOL2. The frcmod holds every bonded and Lennard-Jones
    parameter the prmtop uses (:func:`~fepflow.chemistry.frcmod.frcmod_from_prmtop`; the published
    files predate the GAFF now installed, whose bond and angle parameters differ) with the published
    frcmod's impropers. Rebuilt by tleap with ``leaprc.<forcefield>``, the ligand has the published
    energy (tested to 1e-6 kJ/mol on the FreeSolv files).

    Parameters
    ----------
    prmtop, inpcrd, frcmod : Path
        The published files of one molecule in vacuum.
    name : str
        The molecule's name.
    forcefield : {"gaff", "gaff2"}
        The GAFF the types belong to (FreeSolv: ``gaff``).
    molecule : SmallMoleculeComponent, optional
        The same molecule as a component: its key is used and the atoms are put in its SMILES order
        (matched by element and connectivity), like :func:`parameterize_ligand`'s. Without it, the
        prmtop's order is kept and ``molecule_key`` is ``amber:<prmtop file name>``.

    Returns
    -------
    LigandParameters
        ``charge_method="published"``.

    Raises
    ------
    ValueError
        Unreadable files, more than one residue, or atoms and bonds that are not ``molecule``'s.
    """
    if forcefield not in FORCEFIELDS:
        raise ValueError(f"unknown force field {forcefield!r}; use one of {FORCEFIELDS}")
    prmtop, inpcrd, frcmod = Path(prmtop), Path(inpcrd), Path(frcmod)
    prmtop_text = prmtop.read_text()
    top = read_prmtop_atoms(prmtop_text)
    coords, _ = read_inpcrd(inpcrd.read_text())
    if len(top.residue_labels) > 1:
        raise ValueError(f"{prmtop} holds {len(top.residue_labels)} residues; expected one ligand")
    if len(coords) != len(top.names):
        raise ValueError(f"{inpcrd} has {len(coords)} atoms, {prmtop} has {len(top.names)}")
    atoms = [
        Mol2Atom(name=n, position=xyz, atom_type=t, charge=q)
        for n, xyz, t, q in zip(top.names, coords, top.types, top.charges, strict=True)
    ]
    bonds = top.bonds
    if molecule is not None:
        if not top.atomic_numbers:
            raise ValueError(f"{prmtop} has no ATOMIC_NUMBER section to match {molecule.name} with")
        order = component_order(molecule, top.atomic_numbers, bonds)
        new_index = {old: new for new, old in enumerate(order)}
        atoms = [atoms[old] for old in order]
        pairs = ((new_index[i], new_index[j]) for i, j in bonds)
        bonds = sorted((min(a, b), max(a, b)) for a, b in pairs)
    mol2_text = write_mol2(atoms, [(i, j, "1") for i, j in bonds], title=name)
    return LigandParameters(
        name=name,
        molecule_key=molecule.key if molecule is not None else f"amber:{prmtop.name}",
        forcefield=forcefield,
        charge_method="published",
        net_charge=round(sum(top.charges)),
        mol2=mol2_text,
        frcmod=frcmod_from_prmtop(
            prmtop_text,
            title=f"parameters of {prmtop.name}; impropers from {frcmod.name}",
            impropers=frcmod_section(frcmod.read_text(), "IMPROPER"),
        ),
        provenance=f"published AMBER files {prmtop.name}, {inpcrd.name}, {frcmod.name}",
    )
