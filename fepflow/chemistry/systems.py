"""OpenMM systems of one ligand, built by tleap: in vacuum, in a water box, or in implicit solvent.

tleap (``source leaprc.<gaff>``, ``loadamberparams``, ``loadmol2``) writes an AMBER prmtop/inpcrd;
OpenMM's ``AmberPrmtopFile`` turns it into a System. Published and own parameters take the same path.

A water box: tleap's ``solvatebox`` puts at least the padding of water between the ligand and each
box face (measured from van der Waals surfaces: edges come out about 0.5-0.7 nm longer than 2 x
padding + the ligand's extent; methane at 1.2 nm: 3.2 x 3.2 x 3.1 nm, 686 waters). Ions are placed
by tleap's ``addIons`` (deterministic: same input, same box; ``addIonsRand`` would differ on every
run), replacing waters. The box tleap builds is only about 0.68 g/cc (measured for TIP3P; it shrank
31 % under NPT): equilibrate at constant pressure before alchemical sampling.
"""

from __future__ import annotations

import logging
import re

from fepflow.chemistry.parameters import RESIDUE_NAME, LigandParameters
from fepflow.chemistry.tleap import (
    DEFAULT_TLEAP_TIMEOUT_S,
    BuiltSystem,
    hydrogen_mass,
    load_openmm,
    openmm_constraints,
    pme_options,
    run_tleap,
)

logger = logging.getLogger(__name__)

WATER_MOLARITY = 55.34  # mol/L of pure water at 298 K (997.05 g/L / 18.015 g/mol)
# water model -> (leaprc, tleap box unit, label)
WATER_MODELS = {
    "tip3p": ("leaprc.water.tip3p", "TIP3PBOX", "TIP3P"),
    "spce": ("leaprc.water.spce", "SPCBOX", "SPC/E"),
    "tip4pew": ("leaprc.water.tip4pew", "TIP4PEWBOX", "TIP4P-Ew"),
    "opc": ("leaprc.water.opc", "OPCBOX", "OPC"),
}
# implicit solvent -> (openmm.app constant, intrinsic radii it was fitted with, label)
IMPLICIT_MODELS = {
    "obc2": ("OBC2", "mbondi2", "GBSA-OBC2"),
    "obc1": ("OBC1", "mbondi2", "GBSA-OBC1"),
    "hct": ("HCT", "mbondi", "GB-HCT"),
    "gbn": ("GBn", "bondi", "GBn"),
    "gbn2": ("GBn2", "mbondi3", "GBn2"),
}
POSITIVE_IONS = ("Na+", "K+")
NEGATIVE_IONS = ("Cl-",)
_ADDED = re.compile(r"Added (\d+) residues")


def _ligand_label(params: LigandParameters) -> str:
    charges = "AM1-BCC" if params.charge_method == "am1bcc" else "published charges"
    return f"{params.forcefield.upper()}/{charges} ligand"


def _hmr_label(hydrogen_mass_amu: float | None) -> str:
    return f"HMR {hydrogen_mass_amu:g} amu" if hydrogen_mass_amu else "no HMR"


def build_vacuum(
    params: LigandParameters,
    *,
    hydrogen_mass_amu: float | None = None,
    constraints: str | None = "HBonds",
    timeout_s: float = DEFAULT_TLEAP_TIMEOUT_S,
) -> BuiltSystem:
    """The ligand alone in vacuum: no cutoff, no box.

    Parameters
    ----------
    params : LigandParameters
        The ligand.
    hydrogen_mass_amu : float, optional
        Hydrogen mass for hydrogen mass repartitioning (the difference comes from the bonded heavy
        atom, so the total mass is unchanged).
    constraints : {"HBonds", "AllBonds", "HAngles", None}
        Bond constraints.
    timeout_s : float
        Limit for the tleap run.

    Returns
    -------
    BuiltSystem

    Raises
    ------
    ParameterizationError
        ``tool="tleap"`` when tleap fails (e.g. a parameter is missing).
    """
    from openmm import app

    leap = run_tleap(params, [], timeout_s=timeout_s)
    description = (
        f"{_ligand_label(params)}, vacuum, no cutoff, constraints {constraints}, "
        f"{_hmr_label(hydrogen_mass_amu)}"
    )
    return load_openmm(
        params,
        leap,
        description,
        nonbondedMethod=app.NoCutoff,
        constraints=openmm_constraints(constraints),
        hydrogenMass=hydrogen_mass(hydrogen_mass_amu),
    )


def build_implicit(
    params: LigandParameters,
    *,
    hydrogen_mass_amu: float | None = None,
    solvent: str = "obc2",
    constraints: str | None = "HBonds",
    timeout_s: float = DEFAULT_TLEAP_TIMEOUT_S,
) -> BuiltSystem:
    """The ligand in generalised-Born implicit solvent, no cutoff (the ``fast`` preset).

    tleap writes the intrinsic radii the GB model was fitted with (OBC1/OBC2: mbondi2, HCT: mbondi,
    GBn: bondi, GBn2: mbondi3) and OpenMM adds the GB force (``GBSAOBCForce`` or ``CustomGBForce``).

    Parameters
    ----------
    params : LigandParameters
        The ligand.
    hydrogen_mass_amu : float, optional
        Hydrogen mass for hydrogen mass repartitioning.
    solvent : {"obc2", "obc1", "hct", "gbn", "gbn2"}
        The generalised Born model.
    constraints : {"HBonds", "AllBonds", "HAngles", None}
        Bond constraints.
    timeout_s : float
        Limit for the tleap run.

    Returns
    -------
    BuiltSystem

    Raises
    ------
    ValueError
        An unknown implicit solvent model.
    ParameterizationError
        ``tool="tleap"`` when tleap fails.
    """
    from openmm import app

    if solvent not in IMPLICIT_MODELS:
        raise ValueError(f"unknown implicit solvent {solvent!r}; use one of {sorted(IMPLICIT_MODELS)}")
    model, radii, label = IMPLICIT_MODELS[solvent]
    leap = run_tleap(params, [f"set default PBRadii {radii}"], timeout_s=timeout_s)
    description = (
        f"{_ligand_label(params)}, {label} ({radii} radii), no cutoff, constraints {constraints}, "
        f"{_hmr_label(hydrogen_mass_amu)}"
    )
    return load_openmm(
        params,
        leap,
        description,
        nonbondedMethod=app.NoCutoff,
        implicitSolvent=getattr(app, model),
        constraints=openmm_constraints(constraints),
        hydrogenMass=hydrogen_mass(hydrogen_mass_amu),
    )


def ion_counts(
    net_charge: int, n_waters: int, ion_concentration_molar: float, neutralize: bool
) -> tuple[int, int]:
    """(cations, anions) for a box: salt pairs from the water count, plus counter-ions.

    Salt pairs are ``round(c * n_waters / 55.34 M)`` (the molar ratio of salt to water at
    concentration ``c``), independent of tleap's too-low initial box density.
    """
    pairs = round(ion_concentration_molar * n_waters / WATER_MOLARITY)
    cations = pairs + (max(0, -net_charge) if neutralize else 0)
    anions = pairs + (max(0, net_charge) if neutralize else 0)
    return cations, anions


def build_solvated(
    params: LigandParameters,
    *,
    padding_nm: float = 1.2,
    water_model: str = "tip3p",
    ion_concentration_molar: float = 0.0,
    neutralize: bool = True,
    positive_ion: str = "Na+",
    negative_ion: str = "Cl-",
    nonbonded_cutoff_nm: float = 0.9,
    hydrogen_mass_amu: float | None = 3.0,
    constraints: str | None = "HBonds",
    timeout_s: float = DEFAULT_TLEAP_TIMEOUT_S,
) -> BuiltSystem:
    """The ligand in a rectangular box of explicit water, with PME; no barostat (the engine adds one).

    How tleap fills and salts the box, and its low initial density: see the module.

    Parameters
    ----------
    params : LigandParameters
        The ligand (residue ``LIG``, atoms first in the system).
    padding_nm : float
        Minimum solvent layer between the ligand and the box faces, nm.
    water_model : {"tip3p", "spce", "tip4pew", "opc"}
        Water model (and its matching Joung-Cheatham / Li-Merz ion parameters from the leaprc).
    ion_concentration_molar : float
        Salt concentration; pairs = round(c * waters / 55.34 M).
    neutralize : bool
        Add counter-ions for the ligand's net charge.
    positive_ion, negative_ion : str
        tleap ion names (``Na+`` or ``K+``; ``Cl-``).
    nonbonded_cutoff_nm : float
        Real-space cutoff for PME and Lennard-Jones (with the long-range dispersion correction).
    hydrogen_mass_amu : float, optional
        Hydrogen mass for repartitioning (solute only; rigid water keeps its masses).
    constraints : {"HBonds", "AllBonds", "HAngles", None}
        Bond constraints; water is always rigid.
    timeout_s : float
        Limit for each tleap run.

    Returns
    -------
    BuiltSystem
        With ``box_vectors``.

    Raises
    ------
    ValueError
        An unknown water model or ion, or a negative padding or concentration.
    ParameterizationError
        ``tool="tleap"`` when tleap fails.
    """
    _check_box_options(
        water_model, positive_ion, negative_ion, padding_nm, ion_concentration_molar, nonbonded_cutoff_nm
    )
    leaprc, box_unit, water_label = WATER_MODELS[water_model]
    solvate = [f"solvatebox {RESIDUE_NAME} {box_unit} {padding_nm * 10.0:.4f}"]
    n_waters = 0
    if ion_concentration_molar > 0:
        first = run_tleap(params, solvate, leaprcs=(leaprc,), save=False, timeout_s=timeout_s)
        n_waters = waters_added(first.log)
    cations, anions = ion_counts(params.net_charge, n_waters, ion_concentration_molar, neutralize)
    if params.net_charge and not neutralize:
        logger.warning("%s has net charge %+d and is not neutralised", params.name, params.net_charge)
    ions = ion_commands(RESIDUE_NAME, positive_ion, cations, negative_ion, anions)
    leap = run_tleap(params, solvate + ions, leaprcs=(leaprc,), timeout_s=timeout_s)
    ion_text = "no ions"
    if ions:
        salt = f"{ion_concentration_molar:g} M {positive_ion[:-1]}{negative_ion[:-1]}, " if n_waters else ""
        ion_text = f"{salt}{cations} {positive_ion} + {anions} {negative_ion}"
    description = (
        f"{_ligand_label(params)}, {water_label}, {padding_nm:g} nm padding, {ion_text}, "
        f"PME {nonbonded_cutoff_nm:g} nm, constraints {constraints}, {_hmr_label(hydrogen_mass_amu)}"
    )
    return load_openmm(
        params, leap, description, **pme_options(nonbonded_cutoff_nm, constraints, hydrogen_mass_amu)
    )


def _check_box_options(
    water_model: str,
    positive_ion: str,
    negative_ion: str,
    padding_nm: float,
    ion_concentration_molar: float,
    cutoff_nm: float,
) -> None:
    if water_model not in WATER_MODELS:
        raise ValueError(f"unknown water model {water_model!r}; use one of {sorted(WATER_MODELS)}")
    if positive_ion not in POSITIVE_IONS or negative_ion not in NEGATIVE_IONS:
        raise ValueError(f"ions must be one of {POSITIVE_IONS} and one of {NEGATIVE_IONS}")
    if padding_nm <= 0 or ion_concentration_molar < 0 or cutoff_nm <= 0:
        raise ValueError("padding and cutoff must be positive and the concentration not negative")


def waters_added(log: str) -> int:
    """How many waters tleap's ``solvatebox`` added, from its console output (0 when not reported)."""
    found = _ADDED.findall(log)
    return int(found[-1]) if found else 0


def ion_commands(
    unit_name: str, positive_ion: str, cations: int, negative_ion: str, anions: int
) -> list[str]:
    """tleap's ``addIons`` for ``cations`` and ``anions`` (a count of 0 left out); none without ions."""
    ions = [f"{positive_ion} {cations}"] * bool(cations) + [f"{negative_ion} {anions}"] * bool(anions)
    return [f"addIons {unit_name} {' '.join(ions)}"] if ions else []
