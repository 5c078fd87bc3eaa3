"""openfe's ``RelativeHybridTopologyProtocolSettings`` (gufe JSON) as fepflow's relative settings.

Each setting with a fepflow equivalent is converted, units included; every other one is reported
(dotted path -> why), so a chemist sees exactly what their openfe plan asked for that fepflow will
not do. Values equal to fepflow's behaviour (e.g. PME, h-bond constraints) are carried silently as
"same in fepflow".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UNITS = {
    "nanometer": ("nm", 1.0),
    "angstrom": ("nm", 0.1),
    "kelvin": ("K", 1.0),
    "bar": ("bar", 1.0),
    "atmosphere": ("bar", 1.01325),
    "standard_atmosphere": ("bar", 1.01325),
    "femtosecond": ("fs", 1.0),
    "picosecond": ("fs", 1000.0),
    "nanosecond": ("fs", 1_000_000.0),
    "1 / picosecond": ("1/ps", 1.0),
    "kilocalorie_per_mole": ("kcal/mol", 1.0),
    "kilocalorie / mole": ("kcal/mol", 1.0),
    "kilojoule_per_mole": ("kcal/mol", 1 / 4.184),
    "dalton": ("amu", 1.0),
}
"""openff-units unit names -> (fepflow's unit, factor to it)."""

SAME = {
    "forcefield_settings.constraints": "hbonds",
    "forcefield_settings.rigid_water": True,
    "forcefield_settings.nonbonded_method": "PME",
    "partial_charge_settings.partial_charge_method": "am1bcc",
    "simulation_settings.sampler_method": "repex",
    "integrator_settings.barostat": "MonteCarloBarostat",
    "lambda_settings.lambda_functions": "default",
}
"""Settings whose (usual) value is what fepflow does anyway."""
REASONS = {
    "forcefield_settings.small_molecule_forcefield": "fepflow parametrises ligands with GAFF2 and AM1-BCC",
    "forcefield_settings.forcefields": "fepflow uses Amber ff14SB with the solvent model's water and ions",
    "partial_charge_settings.partial_charge_method": "fepflow charges ligands with AM1-BCC",
    "simulation_settings.sampler_method": "fepflow samples with replica exchange (or independent windows)",
    "lambda_settings.lambda_functions": "fepflow's hybrid schedule (fepflow.hybrid.schedule) applies",
}
"""Why a setting with no fepflow counterpart is not carried over, where more can be said."""
IGNORED_SECTIONS = ("output_settings", "engine_settings")
"""Where files go and which GPU runs them: the orchestrator decides; reported, never an error."""


class UnitError(ValueError):
    """A quantity in a unit fepflow does not convert."""


def quantity(value: Any, unit: str) -> float:
    """``value`` (a gufe quantity dict, or a bare number taken as already in ``unit``) in ``unit``."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, dict) or "magnitude" not in value:
        raise UnitError(f"not a quantity: {value!r}")
    name = str(value.get("unit", "")).strip()
    target, factor = UNITS.get(name, (None, 0.0))
    if target != unit:
        raise UnitError(f"unit {name!r} is not convertible to {unit}")
    return float(value["magnitude"]) * factor


def flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Leaf settings by dotted path (quantities are leaves; gufe's class markers are dropped)."""
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in ("__class__", "__module__", ":is_custom:", "__qualname__", ":version:"):
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "magnitude" not in value:
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


@dataclass
class SettingsReport:
    settings: dict[str, Any] = field(default_factory=dict)
    carried: dict[str, str] = field(default_factory=dict)
    not_carried: dict[str, str] = field(default_factory=dict)
    water_model: str = "tip3p"


def _put(out: dict[str, Any], path: str, value: Any) -> None:
    section, name = path.split(".")
    out.setdefault(section, {})[name] = value


Rule = tuple[str, str, float, Callable[[float], Any]]
RULES: dict[str, Rule] = {
    "thermo_settings.temperature": ("thermo.temperature_K", "K", 1.0, float),
    "thermo_settings.pressure": ("thermo.pressure_bar", "bar", 1.0, float),
    "forcefield_settings.hydrogen_mass": ("simulation.hydrogen_mass_amu", "amu", 1.0, float),
    "forcefield_settings.nonbonded_cutoff": ("system.nonbonded_cutoff_nm", "nm", 1.0, float),
    "integrator_settings.timestep": ("simulation.timestep_fs", "fs", 1.0, float),
    "integrator_settings.langevin_collision_rate": ("simulation.collision_rate_per_ps", "1/ps", 1.0, float),
    "solvation_settings.solvent_padding": ("system.solvent_padding_nm", "nm", 1.0, float),
    "simulation_settings.equilibration_length": ("simulation.equilibration_ps", "fs", 1e-3, float),
    "alchemical_settings.softcore_alpha": ("lambdas.softcore_alpha", "", 1.0, float),
    "lambda_settings.lambda_windows": ("lambdas.windows", "", 1.0, int),
    "protocol_repeats": ("repeats", "", 1.0, int),
}
"""openfe path -> (fepflow path, unit, factor after conversion, type)."""


def _simple(path: str, value: Any, report: SettingsReport) -> bool:
    rule = RULES.get(path)
    if rule is None:
        return False
    target, unit, factor, kind = rule
    number = kind(quantity(value, unit) * factor) if unit else kind(value)
    if "." in target:
        _put(report.settings, target, number)
    else:
        report.settings[target] = number
    report.carried[path] = f"{target} = {number}"
    return True


def _sampling(flat: dict[str, Any], report: SettingsReport) -> None:
    """Production length and iteration time become fepflow's iterations and steps per iteration."""
    length = flat.pop("simulation_settings.production_length", None)
    per_iteration = flat.pop(
        "simulation_settings.time_per_iteration", {"magnitude": 2.5, "unit": "picosecond"}
    )
    timestep_fs = report.settings.get("simulation", {}).get("timestep_fs", 4.0)
    if length is None:
        return
    iteration_fs = quantity(per_iteration, "fs")
    steps = max(1, round(iteration_fs / timestep_fs))
    iterations = max(1, round(quantity(length, "fs") / iteration_fs))
    _put(report.settings, "simulation.steps_per_iteration", steps)
    _put(report.settings, "simulation.production_iterations", iterations)
    report.carried["simulation_settings.production_length"] = (
        f"simulation.production_iterations = {iterations}"
    )
    report.carried["simulation_settings.time_per_iteration"] = f"simulation.steps_per_iteration = {steps}"
    replicas = flat.pop("simulation_settings.n_replicas", None)
    windows = report.settings.get("lambdas", {}).get("windows")
    if replicas is not None and replicas == windows:
        report.carried["simulation_settings.n_replicas"] = "one replica per lambda window, as in fepflow"
    elif replicas is not None:
        report.not_carried["simulation_settings.n_replicas"] = (
            f"{replicas}: fepflow runs one replica per lambda window ({windows})"
        )
    target = flat.pop("simulation_settings.early_termination_target_error", None)
    if target is not None:
        value = quantity(target, "kcal/mol")
        _put(report.settings, "simulation.target_error_kcal_mol", value or None)
        report.carried["simulation_settings.early_termination_target_error"] = (
            f"simulation.target_error_kcal_mol = {value or None}"
        )


def convert_settings(settings: dict[str, Any]) -> SettingsReport:
    """fepflow's settings for openfe's, with what was carried over and what was not (and why)."""
    report = SettingsReport()
    flat = flatten(settings)
    model = flat.pop("solvation_settings.solvent_model", "tip3p")
    if model in ("tip3p", "spce", "tip4pew"):
        report.water_model = str(model)
        report.carried["solvation_settings.solvent_model"] = f"the solvent's water_model = {model}"
    else:
        report.not_carried["solvation_settings.solvent_model"] = f"{model!r}: fepflow runs tip3p instead"
    try:
        for path in [p for p in flat if p in RULES]:
            value = flat.pop(path)
            if value is not None:
                _simple(path, value, report)
        _sampling(flat, report)
    except UnitError as exc:
        raise ValueError(f"openfe setting: {exc}") from None
    for path, value in sorted(flat.items()):
        if path in SAME and value == SAME[path]:
            report.carried[path] = f"{value!r}: the same in fepflow"
        elif value is None:
            continue
        elif path.startswith(IGNORED_SECTIONS):
            report.not_carried[path] = f"{value!r}: fepflow's orchestrator decides (files, platform)"
        else:
            why = REASONS.get(path, "no fepflow equivalent (fepflow's default applies)")
            report.not_carried[path] = f"{_show(value)}: {why}"
    return report


def _show(value: Any) -> str:
    if isinstance(value, dict) and "magnitude" in value:
        return f"{value['magnitude']} {value.get('unit', '')}".strip()
    return repr(value)
