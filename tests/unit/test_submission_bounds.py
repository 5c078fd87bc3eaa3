"""Bounds on what a submission may ask for: settings beyond any sensible run are refused by the
settings models (every preset stays valid, with the content keys it had), and the hub's limits
(atoms per system, SMILES length) refuse the rest before anything is built, naming the setting."""

from __future__ import annotations

import hashlib
import json

import pytest

from api.errors import TooLarge
from api.submission import plan_submission
from fepflow.hub.schemas import NetworkSubmission
from fepflow.models.base import ModelError
from fepflow.models.components import ProteinComponent, SmallMoleculeComponent, SolventComponent
from fepflow.models.protocol_registry import known_protocols, normalise_settings, protocol_class
from fepflow.models.systems import ChemicalSystem
from fepflow.planning.system_size import estimate_atoms
from fepflow.settings import ApiSettings

# sha256 of every preset's normalised settings as they were before the bounds (content keys of
# transformations are made from these dumps, so they must not change); the fast presets changed on
# purpose in issue 16 (sampling until precise, 2 ps iterations for the absolute one)
PRESET_DIGESTS = {
    ("absolute-binding", "fast"): "2a4992b0dfb7",
    ("absolute-binding", "production"): "df86b49e3a1c",
    ("absolute-binding", "smoke"): "ab6f9d8c8684",
    ("absolute-hydration", "fast"): "3578fed50745",
    ("absolute-hydration", "production"): "310c0351a59b",
    ("absolute-hydration", "smoke"): "d6813d71a1eb",
    ("relative-binding", "fast"): "80c8bc2b0f47",
    ("relative-binding", "production"): "74d76c006684",
    ("relative-binding", "smoke"): "9848f95e70e2",
    ("relative-hydration", "fast"): "80c8bc2b0f47",
    ("relative-hydration", "production"): "74d76c006684",
    ("relative-hydration", "smoke"): "9848f95e70e2",
}


def _digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


@pytest.mark.parametrize(("protocol", "preset"), sorted(PRESET_DIGESTS))
def test_every_preset_is_valid_and_keeps_its_settings(protocol: str, preset: str) -> None:
    settings = normalise_settings(protocol, protocol_class(protocol).preset_settings(preset))
    assert _digest(settings) == PRESET_DIGESTS[(protocol, preset)]


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("simulation", "production_iterations", 10**9),
        ("simulation", "steps_per_iteration", 10**8),
        ("simulation", "equilibration_ps", 1e9),
        ("simulation", "minimize_max_iterations", 10**9),
        ("simulation", "checkpoint_interval_iterations", 10**9),
        ("simulation", "collision_rate_per_ps", 1e9),
        ("system", "solvent_padding_nm", 1000.0),
        ("system", "nonbonded_cutoff_nm", 100.0),
        ("thermo", "temperature_K", 1e6),
        ("thermo", "pressure_bar", 1e9),
    ],
)
@pytest.mark.parametrize("protocol", ["absolute-hydration", "relative-binding"])
def test_settings_beyond_any_sensible_run_are_refused(
    protocol: str, section: str, field: str, value: float
) -> None:
    with pytest.raises(ModelError, match=field):
        normalise_settings(protocol, {section: {field: value}})


def test_lambda_schedules_are_bounded() -> None:
    many = 10_000
    schedule = {"electrostatics": [1.0] + [0.0] * many, "sterics": [1.0] * many + [0.0]}
    with pytest.raises(ModelError, match="electrostatics"):
        normalise_settings("absolute-hydration", {"lambdas": schedule})


def test_known_protocols_are_the_ones_checked() -> None:
    assert {p for p, _ in PRESET_DIGESTS} | {"harmonic-reference"} == set(known_protocols())


PDB_LINE = "ATOM  {n:5d}  CA  ALA A{r:4d}    {x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00           C"


def _protein(n_atoms: int, size_angstrom: float) -> ProteinComponent:
    lines = []
    for i in range(n_atoms):
        t = i / max(n_atoms - 1, 1)
        lines.append(
            PDB_LINE.format(
                n=i + 1, r=i // 10 + 1, x=t * size_angstrom, y=t * size_angstrom, z=t * size_angstrom
            )
        )
    return ProteinComponent.from_pdb("\n".join(lines), "big")


def test_atoms_are_estimated_from_padding_and_solute_size() -> None:
    methane = SmallMoleculeComponent.from_smiles("C", name="methane")
    water = SolventComponent()
    solvated = ChemicalSystem(name="methane in water", components={"ligand": methane, "solvent": water})
    vacuum = ChemicalSystem(name="methane", components={"ligand": methane})
    explicit = normalise_settings("absolute-hydration", {})
    implicit = normalise_settings("absolute-hydration", {"system": {"solvent_model": "obc2"}})
    # tleap puts 686 waters around methane at 1.2 nm (fepflow/chemistry/systems.py): ~2,060 atoms
    assert 1_500 < estimate_atoms(solvated, explicit) < 4_000
    assert estimate_atoms(vacuum, explicit) == estimate_atoms(solvated, implicit) == 5
    wider = normalise_settings("absolute-hydration", {"system": {"solvent_padding_nm": 4.0}})
    assert estimate_atoms(solvated, wider) > 20 * estimate_atoms(solvated, explicit)
    long_protein = ChemicalSystem(
        name="complex", components={"protein": _protein(3000, 300.0), "ligand": methane, "solvent": water}
    )
    assert estimate_atoms(long_protein, explicit) > 1_000_000  # 30 nm wide: a huge box of water


def _settings(**kw: object) -> ApiSettings:
    return ApiSettings(**kw)  # type: ignore[arg-type]


def test_the_hub_refuses_systems_over_its_atom_limit_before_building() -> None:
    body = NetworkSubmission(
        scope="acme-kinases-p1",
        ligands=["CCO"],
        settings={"system": {"solvent_padding_nm": 4.5}},
    )
    with pytest.raises(TooLarge, match=r"atoms.*FEPFLOW_API_MAX_ATOMS") as info:
        plan_submission(body, _settings(max_atoms=50_000))
    assert "solvent_padding_nm" in str(info.value)
    plan_submission(body, _settings(max_atoms=2_000_000))  # a raised limit lets it through


def test_the_hub_refuses_long_smiles_before_parsing() -> None:
    long = "C" * 3000
    body = NetworkSubmission(scope="acme-kinases-p1", ligands=[long])
    with pytest.raises(TooLarge, match="FEPFLOW_API_MAX_SMILES_CHARS"):
        plan_submission(body, _settings(max_smiles_chars=2000))
    sdf_body = NetworkSubmission(scope="acme-kinases-p1", ligands=[{"smiles": "C" * 2500, "name": "x"}])
    with pytest.raises(TooLarge, match="FEPFLOW_API_MAX_SMILES_CHARS"):
        plan_submission(sdf_body, _settings(max_smiles_chars=2000))


def test_the_hub_refuses_sampling_over_its_limit() -> None:
    body = NetworkSubmission(
        scope="acme-kinases-p1",
        ligands=["CO"],
        settings={"simulation": {"production_iterations": 500_000, "steps_per_iteration": 5000}},
    )
    with pytest.raises(TooLarge, match="FEPFLOW_API_MAX_NS_PER_STATE"):
        plan_submission(body, _settings())
