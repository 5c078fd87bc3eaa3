"""The results page of a network: status, estimates (with FreeSolv references where a molecule is
known), a correlation plot, every task's overlap and convergence plots, and the DRS ids and download
links of every result file. A relative network (relative-binding or relative-hydration) gets its own
page (:mod:`fepflow.analysis.network_report`): the network graph, the ligands ranked by ΔG with their
depictions, ΔG and ΔΔG against experiment with statistics, cycle closures, each edge's plots.

A browser cannot send a bearer token, so the page is reached through a signed link: an authorised
``GET /api/v1/networks/{key}/page-link`` returns a URL that carries a short-lived token for that one
network, valid ``page_link_ttl_min`` (30 min). The plots and downloads on the page carry signed
links of their own (15 min), minted on each load only while the link's identity still exists, is
enabled and still sees the network.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from api.deps import ApiSettingsDep, AuthSettingsDep, ClaimsDep, IndexDep, NetworkKey, active_identity
from api.routes.drs import stream_path
from api.scoping import network_doc, visible_scopes
from fepflow.analysis.network_estimates import relative_network_estimates
from fepflow.analysis.network_report import render_network_html
from fepflow.analysis.report import MoleculeRow, PageFigure, correlation_png, render_html
from fepflow.auth.tokens import TokenClaims, TokenError, decode_token, encode_token
from fepflow.data.freesolv import entries
from fepflow.mapping import draw_molecule
from fepflow.models.binding import contribution_sentence
from fepflow.models.components import SmallMoleculeComponent
from fepflow.settings import ApiSettings, AuthSettings
from fepflow.store.estimates import network_estimates
from fepflow.store.index import Index
from fepflow.store.network_estimates import RELATIVE_PROTOCOLS, estimate_inputs
from fepflow.store.results import PublishedBundle

log = logging.getLogger(__name__)

PAGE_PURPOSE = "results-page"

router = APIRouter(tags=["results page"])  # under /api/v1: needs a bearer token
public = APIRouter(tags=["results page"])  # authenticated by the signed link


class PageLink(BaseModel):
    url: str
    expires_at: str


@router.get(
    "/networks/{key}/page-link",
    summary="A signed link to the network's results page",
    response_model=PageLink,
)
def page_link(
    key: NetworkKey, claims: ClaimsDep, index: IndexDep, settings: ApiSettingsDep, auth: AuthSettingsDep
) -> PageLink:
    network_doc(index, claims, key)
    token, expires = encode_token(
        claims.subject,
        [],
        secret=auth.secret_key.get_secret_value(),
        algorithm=auth.algorithm,
        ttl=timedelta(minutes=auth.page_link_ttl_min),
        purpose=PAGE_PURPOSE,
        extra={"net": key},
    )
    return PageLink(
        url=f"{settings.public_url.rstrip('/')}/networks/{key}/page?token={token}",
        expires_at=expires.isoformat(),
    )


def _check(request: Request, key: str, token: str, auth: AuthSettings) -> TokenClaims:
    """The identity of a valid page link for network ``key`` as it is now (it still exists, is
    enabled and still sees the network; its stream links are minted for it)."""
    try:
        claims = decode_token(
            token, secret=auth.secret_key.get_secret_value(), algorithm=auth.algorithm, purpose=PAGE_PURPOSE
        )
    except TokenError as exc:
        raise HTTPException(401, f"this page link is not valid: {exc}") from None
    if claims.extra.get("net") != key:
        raise HTTPException(401, "this page link is for another network")
    identity = active_identity(request.app.state, claims.subject)
    now = TokenClaims(identity.identifier, identity.scopes, expires_at=claims.expires_at)
    network_doc(request.app.state.index, now, key)
    return now


def _rows(index: Index, key: str, viewer: TokenClaims) -> tuple[list[MoleculeRow], str | None]:
    """The molecules' rows and what their experiment column holds: FreeSolv's hydration values for
    hydration, the values the viewer's scopes submitted for binding (None where no row has one)."""
    known = {e.name: e for e in entries()}
    doc = index.networks.summary(key) or {}
    measured = {
        v.ligand: v.dg_kcal_mol
        for v in index.networks.experimental(key, visible_scopes(viewer, doc.get("scopes", [])))
    }
    rows, sources = [], set()
    for est in network_estimates(index, key):
        label = est.ligand or est.name
        hydration = est.protocol == "absolute-hydration"
        ref = known.get(est.ligand or "") if hydration else None
        experiment = ref.expt_kcal_mol if ref else measured.get(est.ligand or "")
        if experiment is not None:
            sources.add("FreeSolv" if ref else "submitted values")
        rows.append(
            MoleculeRow(
                name=label,
                dg_kcal_mol=est.dg_kcal_mol,
                uncertainty_kcal_mol=est.uncertainty_kcal_mol,
                uncertainty_basis=est.uncertainty_basis,
                experiment_kcal_mol=experiment,
                published_kcal_mol=ref.calc_gaff_kcal_mol if ref else None,
            )
        )
    return rows, ", ".join(sorted(sources)) or None


def _binding_notes(index: Index, key: str) -> list[str]:
    """Absolute binding: each ligand's ΔG_bind with its legs and the restraint's correction."""
    notes = []
    for est in network_estimates(index, key):
        sentence = contribution_sentence(est.ligand or est.name, est.model_dump())
        if sentence:
            notes.append(sentence)
    if notes:
        notes.insert(
            0,
            "Absolute binding: ΔG_bind = ΔG_solvent − ΔG_complex − ΔG_restraint (Boresch restraint's "
            "standard-state correction, 1 M).",
        )
    return notes


def _bundle_links(
    published: PublishedBundle, subject: str, host: str, auth: AuthSettings, name: str | None = None
) -> tuple[list[tuple[str, str]], list[PageFigure]]:
    """Signed download links of a bundle and its files, and its pictures (PNG and SVG files) as
    figures; labelled with ``name`` (default: its ligand or transformation) and its repeat."""
    bundle = published.bundle
    label = f"{name or published.ligand or bundle['transformation'][:28]} (repeat {published.repeat})"
    links = [(f"{label}: bundle drs://{host}/{bundle['_id']}", stream_path(subject, bundle["_id"], auth))]
    figures = []
    for blob in published.files:
        href = stream_path(subject, blob["_id"], auth)
        links.append(
            (
                f"{label}: {blob['name']} ({blob['size']:,} bytes, sha-256 {blob['checksum_sha256'][:12]}…)",
                href,
            )
        )
        if blob.get("mime_type") in ("image/png", "image/svg+xml"):
            css_class = "mapping" if blob["name"] == "mapping.svg" else ""
            figures.append(PageFigure(f"{label}: {blob['name'][:-4].replace('_', ' ')}", href, css_class))
    return links, figures


def _host(settings: ApiSettings) -> str:
    return settings.public_url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]


def _depictions(molecules: list[SmallMoleculeComponent]) -> dict[str, str]:
    """Each molecule's 2-D depiction (SVG text); one RDKit cannot draw is left out, not the page."""
    out = {}
    for molecule in molecules:
        try:
            out[molecule.name] = draw_molecule(molecule)
        except Exception as exc:  # RDKit raises many kinds; a missing picture must not lose the page
            log.warning("no depiction of %s: %s", molecule.name, exc)
    return out


def _relative_page(
    index: Index, key: str, title: str, subject: str, scopes: list[str], host: str, auth: AuthSettings
) -> str:
    """A relative network's page: its estimates (with the experimental values of the viewer's
    ``scopes``), its ligands' depictions and each edge's plots."""
    inputs = estimate_inputs(index, key, scopes)
    estimates = relative_network_estimates(*inputs)
    edge_of = {t: (e.ligand_a, e.ligand_b) for e in estimates.edges for t in e.legs.values()}
    figures: dict[tuple[str, str], list[PageFigure]] = {}
    links: list[tuple[str, str]] = []
    for published in index.results.published_bundles(key):
        edge = edge_of.get(published.bundle["transformation"])
        name = f"{edge[0]} → {edge[1]}" if edge else None
        bundle_links, bundle_figures = _bundle_links(published, subject, host, auth, name)
        links += bundle_links
        if edge is not None:  # under the edge's heading: "complex overlap, repeat 0", "atom mapping"
            figures.setdefault(edge, []).extend(
                PageFigure(
                    "atom mapping"
                    if f.css_class == "mapping"
                    else f"{f.caption.split(': ', 1)[-1]}, repeat {published.repeat}",
                    f.src,
                    f.css_class,
                )
                for f in bundle_figures
            )
    for edge, shown in figures.items():  # the mapping once (each leg drew the same), then the plots
        mapping = [f for f in shown if f.css_class == "mapping"][:1]
        figures[edge] = mapping + sorted(
            (f for f in shown if f.css_class != "mapping"), key=lambda f: f.caption
        )
    molecules = [m for system in inputs.network.nodes for m in system.small_molecules().values()]
    return render_network_html(
        estimates,
        title=title,
        subtitle=f"network {key}",
        status=index.tasks.counts(key),
        depictions=_depictions(list({m.key: m for m in molecules}.values())),
        edge_figures=figures,
        links=links,
    )


@public.get(
    "/networks/{key}/page", response_class=HTMLResponse, summary="The network's results page (signed link)"
)
def results_page(
    request: Request,
    key: str,
    index: IndexDep,
    settings: ApiSettingsDep,
    auth: AuthSettingsDep,
    token: Annotated[str, Query(max_length=4000)],
) -> HTMLResponse:
    viewer = _check(request, key, token, auth)
    subject = viewer.subject
    doc = index.networks.summary(key)
    if doc is None:
        raise HTTPException(404, f"network {key} not found")
    title = f"fepflow results: {doc.get('name') or key}"
    if index.transformations.protocols(key) & set(RELATIVE_PROTOCOLS):
        scopes = visible_scopes(viewer, doc.get("scopes", []))
        return HTMLResponse(_relative_page(index, key, title, subject, scopes, _host(settings), auth))
    status = index.tasks.counts(key)
    rows, reference = _rows(index, key, viewer)
    figures: list[PageFigure] = []
    if reference:
        figures.append(
            PageFigure(
                f"computed against experiment ({reference})", f"/networks/{key}/correlation.png?token={token}"
            )
        )
    links: list[tuple[str, str]] = []
    for published in index.results.published_bundles(key):
        bundle_links, bundle_figures = _bundle_links(published, subject, _host(settings), auth)
        links += bundle_links
        figures += bundle_figures
    html = render_html(
        title=title,
        subtitle=f"network {key}",
        status=status,
        rows=rows,
        notes=_binding_notes(index, key),
        figures=figures,
        links=links,
    )
    return HTMLResponse(html)


@public.get("/networks/{key}/correlation.png", summary="Computed against experimental values (signed link)")
def correlation(
    request: Request,
    key: str,
    index: IndexDep,
    auth: AuthSettingsDep,
    token: Annotated[str, Query(max_length=4000)],
) -> Response:
    viewer = _check(request, key, token, auth)
    rows, _ = _rows(index, key, viewer)
    return Response(correlation_png(rows), media_type="image/png")
