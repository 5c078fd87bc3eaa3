"""The results page of a network: reached by a signed link, it lists the estimates and a download
link for every bundle and file of the network's completed tasks."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from api_support import OTHER_SCOPE, SCOPE, bearer, complete_task, submit_smiles
from fastapi.testclient import TestClient

from fepflow.store.index import Index
from fepflow.store.objects import ObjectStore

pytestmark = pytest.mark.integration
pytest_plugins = ["api_fixtures"]


def test_the_page_lists_every_completed_bundle_and_its_files(
    hub: TestClient, hub_index: Index, hub_objects: ObjectStore
) -> None:
    sub = submit_smiles(hub, {"methanol": "CO", "ethanol": "CCO"}).json()
    done = complete_task(hub_index, hub_objects, sub["tasks"][0], dg=-5.1, error=0.2, ligand="methanol")
    link = hub.get(f"/api/v1/networks/{sub['network']}/page-link", headers=bearer([SCOPE]))
    assert link.status_code == 200
    url = urlsplit(link.json()["url"])
    page = hub.get(f"{url.path}?{url.query}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert sub["network"] in html and "methanol" in html
    assert f"bundle drs://hub.example.org/{done['bundle']['id']}" in html
    assert "methanol (repeat 0): summary.json" in html
    assert html.count("/ga4gh/drs/v1/stream/") == 2  # the bundle and its one file
    blob = re.escape(done["blob"]["id"])
    [href] = re.findall(rf"/ga4gh/drs/v1/stream/{blob}\?token=[^\"'<]+", html)
    assert hub.get(href.replace("&amp;", "&")).content == done["summary_bytes"]


def test_the_page_needs_a_link_for_its_own_network(hub: TestClient) -> None:
    mine = submit_smiles(hub, {"methanol": "CO"}).json()["network"]
    theirs = submit_smiles(hub, {"ethanol": "CCO"}, scope=OTHER_SCOPE).json()["network"]
    assert hub.get(f"/api/v1/networks/{theirs}/page-link", headers=bearer([SCOPE])).status_code == 404
    url = urlsplit(hub.get(f"/api/v1/networks/{mine}/page-link", headers=bearer([SCOPE])).json()["url"])
    assert hub.get(f"/networks/{theirs}/page?{url.query}").status_code == 401
    assert hub.get(f"/networks/{mine}/page?token=not-a-token").status_code == 401
