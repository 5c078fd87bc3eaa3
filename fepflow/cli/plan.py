"""``fepflow plan``: a campaign planned from local files, written and shown, without submitting; and the
inputs (options, files read once, the printed summary) that ``fepflow submit`` shares with it.

Both go through the one planner (:func:`fepflow.planning.campaign.plan_campaign`): ``plan`` here, and
``submit`` on the hub, which receives the same texts. The planning packages load RDKit, OpenMM and
matplotlib, so they are imported inside the functions: other commands start fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from fepflow.cli.console import Block, as_table, console, err, print_plain_blocks
from fepflow.models.network_results import ExperimentalValue
from fepflow.models.plans import PlanReport, ProteinPreparation

if TYPE_CHECKING:
    from fepflow.planning.campaign import CampaignRequest

PROTOCOL_HELP = (
    "relative-binding | relative-hydration | absolute-hydration | absolute-binding (default: relative-binding with "
    "--protein, relative-hydration with a shape or edges, else absolute-hydration)"
)
ProteinOption = typer.Option(
    None,
    "--protein",
    "-p",
    exists=True,
    dir_okay=False,
    help="protein PDB (relative-binding, absolute-binding)",
)
ProtocolOption = typer.Option(None, "--protocol", help=PROTOCOL_HELP)
ShapeOption = typer.Option(
    None, "--shape", help="mst (default) | star (with --reference) | cycles (every ligand on a cycle)"
)
ReferenceOption = typer.Option(None, "--reference", help="the star's centre, a ligand name")
EdgesOption = typer.Option(
    None, "--edges", exists=True, dir_okay=False, help="CSV of ligand pairs A,B: exactly these edges"
)
ExperimentalOption = typer.Option(
    None,
    "--experimental",
    exists=True,
    dir_okay=False,
    help="CSV name,dG,error of measured free energies (kcal/mol)",
)
PhOption = typer.Option(7.0, "--ph", min=0.0, max=14.0, help="pH for the protein's protonation states")
BuildLoopsOption = typer.Option(
    False, "--build-loops", help="model residues missing inside a chain (needs SEQRES)"
)
PresetOption = typer.Option(None, "--preset", help="protocol preset, e.g. fast, production, smoke")
RepeatsOption = typer.Option(None, "--repeats", min=1, help="repeats per transformation")
NameOption = typer.Option(None, "--name", help="network name")


def default_protocol(
    protocol: str | None, protein: Path | None, shape: str | None, reference: str | None, edges: Path | None
) -> str:
    """The protocol asked for, or the one the other options imply."""
    if protocol:
        return protocol
    if protein is not None:
        return "relative-binding"
    if shape or reference or edges:
        return "relative-hydration"
    return "absolute-hydration"


@dataclass(frozen=True)
class CampaignFiles:
    """A campaign's files, read once: what ``plan`` plans and ``submit`` sends to the hub."""

    sdf: str | None = None
    smiles: list[tuple[str, str]] | None = None
    protein_pdb: str | None = None
    protein_name: str | None = None
    edges: list[tuple[str, str]] | None = None
    experimental: list[ExperimentalValue] | None = None


def read_campaign_files(
    ligands: Path | None, protein: Path | None, edges: Path | None, experimental: Path | None
) -> CampaignFiles:
    """Read the files given (an unreadable CSV is a usage error naming the file and line)."""
    from fepflow.planning.errors import PlanningError
    from fepflow.planning.readers import read_edges_csv, read_experimental_csv, read_ligands_csv

    try:
        text = ligands.read_text() if ligands else None
        is_sdf = ligands is not None and ligands.suffix.lower() in (".sdf", ".sd", ".mol")
        return CampaignFiles(
            sdf=text if is_sdf else None,
            smiles=read_ligands_csv(text) if text is not None and not is_sdf else None,
            protein_pdb=protein.read_text() if protein else None,
            protein_name=protein.stem if protein else None,
            edges=read_edges_csv(edges.read_text()) if edges else None,
            experimental=read_experimental_csv(experimental.read_text()) if experimental else None,
        )
    except (PlanningError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from None


def campaign_request(files: CampaignFiles, **options: Any) -> CampaignRequest:
    """The planner's request from the files and the command's options."""
    from fepflow.planning.campaign import CampaignRequest
    from fepflow.planning.readers import LigandInput

    smiles = [LigandInput(smiles=s, name=n) for n, s in files.smiles] if files.smiles is not None else None
    return CampaignRequest(
        sdf=files.sdf,
        smiles=smiles,
        protein_pdb=files.protein_pdb,
        protein_name=files.protein_name,
        edges=files.edges,
        experimental=files.experimental,
        **options,
    )


def _protein_lines(p: ProteinPreparation) -> list[str]:
    histidines = ", ".join(f"{h.residue} {h.state}" for h in p.histidines) or "none"
    lines = [
        f"protein {p.name}: {p.n_residues} residues, {p.n_atoms} atoms, prepared at pH {p.ph:g}",
        f"  hydrogens added: {p.hydrogens_added}; heavy atoms added: {', '.join(p.heavy_atoms_added) or 'none'}",
        f"  histidines: {histidines}",
    ]
    lines += [f"  other protonation states: {', '.join(p.protonation)}"] if p.protonation else []
    lines += [f"  missing residues: {'; '.join(p.missing_residues)}"] if p.missing_residues else []
    lines += [f"  removed: {', '.join(p.removed)}"] if p.removed else []
    lines += [f"  replaced: {', '.join(p.replaced)}"] if p.replaced else []
    return lines + [f"  note: {n}" for n in p.notes]


def print_plan(report: PlanReport) -> None:
    """The plan as a person reads it: ligands, edges with scores, cycles, the protein's preparation;
    when piped, the ligands and edges as plain tab-separated blocks (see :func:`print_plain_blocks`)."""
    blocks = [_ligand_block(report)] + ([_edge_block(report)] if report.edges else [])
    if console.is_terminal:
        for block in blocks:
            console.print(as_table(block))
    else:
        print_plain_blocks(blocks)
        console.print()
    if report.edges:
        console.print(f"{len(report.cycles)} independent cycle(s)")
        for cycle in report.cycles:
            console.print("  " + " -> ".join([*cycle, cycle[0]]))
    if report.protein is not None:
        for line in _protein_lines(report.protein):
            console.print(line)
    missing = [lig.name for lig in report.ligands if lig.experimental is None]
    if report.experimental and missing:
        console.print(f"no experimental value for: {', '.join(missing)}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


def _ligand_block(report: PlanReport) -> Block:
    rows = []
    for lig in report.ligands:
        exp = lig.experimental
        measured = f"{exp.dg_kcal_mol:+.2f} ± {exp.uncertainty_kcal_mol:.2f}" if exp else ""
        rows.append(
            [lig.name, str(lig.heavy_atoms), f"{lig.net_charge:+d}", "yes" if lig.posed else "no", measured]
        )
    columns = ["ligand", "heavy atoms", "charge", "posed", "ΔG exp. (kcal/mol)"]
    return f"{report.name}: {len(report.ligands)} ligands ({report.protocol})", columns, rows


def _edge_block(report: PlanReport) -> Block:
    shape = report.shape + (f" around {report.reference}" if report.reference else "")
    rows = [
        [
            f"{e.ligand_a} -> {e.ligand_b}",
            "" if e.score is None else f"{e.score:.3f}",
            str(e.mapped_heavy_atoms),
            str(e.unmapped_heavy_atoms),
            ", ".join(e.transformations),
        ]
        for e in report.edges
    ]
    columns = ["edge", "score", "mapped heavy", "unmapped heavy", "legs"]
    return f"{len(report.edges)} edges ({shape}), {report.n_transformations} transformations", columns, rows


def plan(
    ligands: Path = typer.Option(
        ..., "--ligands", "-l", exists=True, dir_okay=False, help="SDF (posed) or CSV of SMILES"
    ),
    out: Path = typer.Option(..., "--out", "-o", file_okay=False, help="folder to write the plan into"),
    protein: Path | None = ProteinOption,
    protocol: str | None = ProtocolOption,
    shape: str | None = ShapeOption,
    reference: str | None = ReferenceOption,
    edges: Path | None = EdgesOption,
    experimental: Path | None = ExperimentalOption,
    preset: str | None = PresetOption,
    repeats: int | None = RepeatsOption,
    ph: float = PhOption,
    build_loops: bool = BuildLoopsOption,
    name: str | None = NameOption,
) -> None:
    """Plan a campaign without submitting: the network document, its picture, the protein's preparation."""
    from fepflow.planning.campaign import plan_campaign
    from fepflow.planning.errors import PlanningError

    files = read_campaign_files(ligands, protein, edges, experimental)
    request = campaign_request(
        files,
        protocol=default_protocol(protocol, protein, shape, reference, edges),
        shape=shape,
        reference=reference,
        preset=preset,
        repeats=repeats,
        ph=ph,
        build_loops=build_loops,
        name=name or ligands.stem,
    )
    try:
        planned = plan_campaign(request)
    except PlanningError as exc:
        err.print(f"[red]cannot plan:[/] {exc}")
        raise typer.Exit(1) from None
    print_plan(planned.report)
    written = _write_plan(planned, out)
    console.print(f"network [cyan]{planned.network.key}[/]")
    console.print("written: " + ", ".join(str(p) for p in written))
    again = f" --experimental {experimental}" if experimental else ""
    console.print(
        f"nothing was submitted; to run it: fepflow submit {out / 'network.json'}{again} --scope ORG-CAMPAIGN-PROJECT"
    )


def _write_plan(planned: Any, out: Path) -> list[Path]:
    from fepflow.models.serialization import to_json
    from fepflow.planning.drawing import write_plan_pictures

    out.mkdir(parents=True, exist_ok=True)
    texts = {
        "network.json": to_json(planned.network),
        "plan.json": planned.report.model_dump_json(indent=1),
    }
    if planned.protein_pdb is not None and planned.report.protein is not None:
        texts["protein_prepared.pdb"] = planned.protein_pdb
        texts["protein_preparation.json"] = planned.report.protein.model_dump_json(indent=1)
    written = []
    for filename, text in texts.items():
        (out / filename).write_text(text)
        written.append(out / filename)
    return written + write_plan_pictures(planned.report, out)
