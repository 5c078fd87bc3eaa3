"""The hub's Python client: typed calls per endpoint, retries with backoff, token refresh, paging,
and DRS downloads verified against their sha-256.

    client = Client("http://127.0.0.1:8000")
    client.login("alice", "secret")
    sub = client.submit_ligands(["CO", "CCO"], scope="acme-kinases-p1", preset="fast")
    client.status(sub.network).counts
"""

from __future__ import annotations

import hashlib
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from fepflow.hub.folders import task_folders
from fepflow.hub.schemas import (
    API_PREFIX,
    DRS_PREFIX,
    MAX_BULK,
    AccessURL,
    AllocationRequest,
    DrsObject,
    NetworkResults,
    NetworkStatus,
    NetworkSummary,
    SubmitResult,
    TaskChanges,
    TaskOut,
    Token,
    TransformationResults,
)
from fepflow.hub.token_file import load_token, save_token
from fepflow.models.network import AlchemicalNetwork
from fepflow.models.network_results import ExperimentalValue, NetworkEstimates
from fepflow.models.serialization import from_dict, to_dict
from fepflow.store.lookup import is_full_key

RETRY_STATUSES = frozenset({502, 503, 504})
MAX_BACKOFF_S = 30.0
IDEMPOTENCY_HEADER = "Idempotency-Key"
REFRESH_MARGIN = timedelta(seconds=60)
M = TypeVar("M", bound=BaseModel)


class HubError(Exception):
    """The hub answered with an error status; ``detail`` is what it said."""

    def __init__(self, status_code: int, detail: Any, method: str = "", path: str = "") -> None:
        self.status_code, self.detail = status_code, detail
        super().__init__(f"{method} {path}: {status_code}: {_describe(detail)}")


class ChecksumError(Exception):
    """Downloaded bytes are not the ones the DRS object's sha-256 names (the file is removed)."""


def _describe(detail: Any) -> str:
    if isinstance(detail, dict):
        detail = detail.get("detail", detail.get("msg", detail))
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}"
            + (f" (molecule {d['molecule']})" if d.get("molecule") else "")
            for d in detail
            if isinstance(d, dict)
        )
    return str(detail)


def _seconds(retry_after: str | None) -> float | None:
    """A ``Retry-After`` header's wait in seconds (it is a number of seconds or an HTTP date)."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return float(retry_after)
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _seg(ref: str) -> str:
    """``ref`` as one path segment (a network's name may hold spaces or other reserved characters)."""
    return quote(ref, safe="")


TASK_INDEX = "tasks.tsv"
"""The file ``fetch_network`` writes beside the task folders: folder, task, transformation, repeat."""


def _write_task_index(path: Path, tasks: list[dict[str, Any]], folders: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["folder\ttask\ttransformation\ttransformation_name\trepeat"]
    for t in sorted(tasks, key=lambda t: folders[t["task"]]):
        name = str(t.get("transformation_name") or "").replace("\t", " ")
        lines.append(f"{folders[t['task']]}\t{t['task']}\t{t['transformation']}\t{name}\t{t['repeat']}")
    path.write_text("\n".join(lines) + "\n")


def _allocation(allocation: AllocationRequest | None) -> dict[str, Any]:
    """The body's ``allocation`` field, only when one is given (hubs before it refuse the field)."""
    return {} if allocation is None else {"allocation": allocation.model_dump()}


def _values(values: Sequence[ExperimentalValue] | None) -> list[dict[str, Any]] | None:
    return [v.model_dump(mode="json") for v in values] if values is not None else None


class Client:
    """One hub. ``http`` may be any ``httpx.Client`` (tests pass one with a mock or ASGI transport)."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token_file: Path | None = None,
        timeout_s: float = 60.0,
        retries: int = 10,
        backoff_s: float = 0.5,
        retry_total_s: float = 120.0,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout_s)
        self.retries, self.backoff_s, self._sleep = retries, backoff_s, sleep
        self.retry_total_s, self._clock = retry_total_s, clock
        self._credentials = (username, password) if username and password else None
        self.token_file = token_file
        self._token: Token | None = None
        self._raw_token = token
        if token is None and token_file is not None:
            saved = load_token(token_file)
            if saved and saved[0].rstrip("/") == self.base_url:
                self._token = saved[1]

    # -- plumbing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the HTTP client when this client made it (one passed in is the caller's to close)."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def access_token(self) -> str | None:
        return self._token.access_token if self._token else self._raw_token

    def _auth_headers(self) -> dict[str, str]:
        if self._token and self._token.expires_at - datetime.now(UTC) < REFRESH_MARGIN:
            self._renew()
        return self._bearer()

    def _renew(self) -> None:
        """A fresh token: by password when known, else from the current (still valid) token."""
        if self._credentials:
            self.login(*self._credentials)
        elif self.access_token:
            self._set_token(self._model(Token, self._send("POST", f"{API_PREFIX}/auth/refresh", renew=False)))

    def _set_token(self, token: Token) -> None:
        self._token = token
        if self.token_file is not None:
            save_token(self.token_file, self.base_url, token)

    def _send(
        self, method: str, path: str, *, auth: bool = True, renew: bool = True, **kw: Any
    ) -> httpx.Response:
        """Send with retries on 502/503/504 and connection errors (waiting as ``Retry-After`` says,
        at most ``retries`` times and ``retry_total_s`` seconds in all); on a 401 renew the token once.

        ``renew=False`` is for the renewal call itself: it neither refreshes first nor retries a 401.
        """
        given_headers = dict(kw.pop("headers", None) or {})
        attempt, deadline = 0, self._clock() + self.retry_total_s
        renewed = not renew
        while True:
            headers = dict(given_headers)
            if auth:
                headers.update(self._auth_headers() if renew else self._bearer())
            try:
                response = self.http.request(method, path, headers=headers, **kw)
            except httpx.TransportError:
                if not self._pause(attempt, deadline):
                    raise
                attempt += 1
                continue
            if self._retryable(response, given_headers) and self._pause(
                attempt, deadline, response.headers.get("retry-after")
            ):
                attempt += 1
                continue
            if response.status_code == 401 and auth and not renewed and (self._credentials or self._token):
                renewed = True
                try:
                    self._renew()
                except HubError:
                    pass  # report the original 401 below
                else:
                    continue
            if response.status_code >= 400:
                try:
                    detail: Any = response.json()
                except ValueError:
                    detail = response.text
                raise HubError(response.status_code, detail, method, path)
            return response

    @staticmethod
    def _retryable(response: httpx.Response, headers: dict[str, str]) -> bool:
        """502/503/504; and a 409 with Retry-After for a request with an idempotency key (the hub is
        still working on its first try)."""
        if response.status_code in RETRY_STATUSES:
            return True
        return (
            response.status_code == 409
            and "retry-after" in response.headers
            and IDEMPOTENCY_HEADER in headers
        )

    def _bearer(self) -> dict[str, str]:
        token = self.access_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _pause(self, attempt: int, deadline: float, retry_after: str | None = None) -> bool:
        """Wait before retry ``attempt + 1``: as long as ``Retry-After`` says, else a growing backoff,
        never past ``deadline``. False (and no wait) when the retries or the time are used up."""
        left = deadline - self._clock()
        if attempt >= self.retries or left <= 0:
            return False
        told = _seconds(retry_after)
        backoff = min(self.backoff_s * (2**attempt), MAX_BACKOFF_S) * (1 + random.random() / 4)
        self._sleep(min(told if told is not None else backoff, left))
        return True

    @staticmethod
    def _model(model: type[M], response: httpx.Response) -> M:
        return model.model_validate(response.json())

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        clean = {k: v for k, v in params.items() if v is not None}
        return self._model(model, self._send("GET", path, params=clean))

    def _post(self, model: type[M], path: str, body: dict[str, Any]) -> M:
        """POST with an ``Idempotency-Key`` of its own, sent again on every retry of this call: the
        hub answers a retry (after a lost answer) with the first answer instead of doing it twice."""
        clean = {k: v for k, v in body.items() if v is not None}
        headers = {IDEMPOTENCY_HEADER: uuid.uuid4().hex}
        return self._model(model, self._send("POST", path, json=clean, headers=headers))

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        after: str | None = None
        while True:
            query = {k: v for k, v in {**params, "after": after}.items() if v is not None}
            page = self._send("GET", path, params=query).json()
            yield from page["items"]
            after = page.get("next_after")
            if not after:
                return

    # -- service and auth -----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return dict(self._send("GET", "/health", auth=False).json())

    def version(self) -> dict[str, str]:
        return dict(self._send("GET", "/version", auth=False).json())

    def login(self, username: str, password: str, *, remember: bool = False) -> Token:
        response = self._send(
            "POST", f"{API_PREFIX}/auth/token", auth=False, data={"username": username, "password": password}
        )
        if remember:
            self._credentials = (username, password)
        token = self._model(Token, response)
        self._set_token(token)
        return token

    def whoami(self) -> dict[str, Any]:
        return dict(self._send("GET", f"{API_PREFIX}/auth/whoami").json())

    # -- networks -------------------------------------------------------------------------------

    def submit_network(
        self,
        network: AlchemicalNetwork,
        *,
        scope: str,
        repeats: int | None = None,
        priority: int = 0,
        experimental: Sequence[ExperimentalValue] | None = None,
        allocation: AllocationRequest | None = None,
    ) -> SubmitResult:
        """A network document as it is (and, optionally, measured values of its ligands, and an
        allocation strategy)."""
        body = {
            "scope": scope,
            "network": to_dict(network),
            "repeats": repeats,
            "priority": priority,
            "experimental": _values(experimental),
            **_allocation(allocation),
        }
        return self._post(SubmitResult, f"{API_PREFIX}/networks", body)

    def submit_ligands(
        self,
        ligands: list[str] | list[tuple[str, str]] | None = None,
        *,
        scope: str,
        sdf: str | None = None,
        protocol: str = "absolute-hydration",
        preset: str | None = None,
        name: str | None = None,
        repeats: int | None = None,
        priority: int = 0,
        settings: dict[str, Any] | None = None,
        protein_pdb: str | None = None,
        protein_name: str | None = None,
        shape: str | None = None,
        reference: str | None = None,
        edges: Sequence[tuple[str, str]] | None = None,
        experimental: Sequence[ExperimentalValue] | None = None,
        ph: float = 7.0,
        build_loops: bool = False,
        allocation: AllocationRequest | None = None,
    ) -> SubmitResult:
        """A planner body: ligands as SMILES (or ``(name, smiles)`` pairs) or SDF text, planned by the
        hub with the same planner as ``fepflow plan`` (relative networks: the protein's PDB text, a
        shape or edges); the answer's ``plan`` says what it decided."""
        items: list[Any] | None = None
        if ligands is not None:
            items = [s if isinstance(s, str) else {"name": s[0], "smiles": s[1]} for s in ligands]
        body = {
            "scope": scope,
            "ligands": items,
            "sdf": sdf,
            "protocol": protocol,
            "preset": preset,
            "name": name,
            "repeats": repeats,
            "priority": priority,
            "settings": settings,
            "protein_pdb": protein_pdb,
            "protein_name": protein_name,
            "shape": shape,
            "reference": reference,
            "edges": [list(e) for e in edges] if edges is not None else None,
            "experimental": _values(experimental),
            "ph": ph,
            "build_loops": build_loops,
            **_allocation(allocation),
        }
        return self._post(SubmitResult, f"{API_PREFIX}/networks", body)

    def networks(self, *, scope: str | None = None, page_size: int = 500) -> Iterator[NetworkSummary]:
        for item in self._pages(f"{API_PREFIX}/networks", {"limit": page_size, "scope": scope}):
            yield NetworkSummary.model_validate(item)

    def network(self, key: str) -> NetworkSummary:
        """A network's summary; ``key`` may be its key, a unique prefix of the key, or its name."""
        if "/" in key:  # no path segment can hold it (servers decode %2F before routing): by listing
            found = [n for n in self.networks() if n.name == key]
            if len(found) == 1:
                return found[0]
            if not found:
                raise HubError(404, f"network {key} not found", "GET", f"{API_PREFIX}/networks")
            listed = "; ".join(n.key for n in found)
            raise HubError(409, f"network {key!r} is ambiguous: it matches {listed}", "GET", "")
        return self._get(NetworkSummary, f"{API_PREFIX}/networks/{_seg(key)}")

    def network_key(self, ref: str) -> str:
        """The whole key of the network ``ref`` names (key, unique key prefix or name)."""
        return ref if is_full_key(ref) else self.network(ref).key

    def network_document(self, key: str) -> AlchemicalNetwork:
        model = from_dict(self._send("GET", f"{API_PREFIX}/networks/{_seg(key)}/document").json())
        assert isinstance(model, AlchemicalNetwork)
        return model

    def status(self, key: str) -> NetworkStatus:
        return self._get(NetworkStatus, f"{API_PREFIX}/networks/{_seg(key)}/status")

    def results(self, key: str) -> NetworkResults:
        return self._get(NetworkResults, f"{API_PREFIX}/networks/{_seg(key)}/results")

    def results_csv(self, key: str) -> str:
        return self._send("GET", f"{API_PREFIX}/networks/{_seg(key)}/results", params={"format": "csv"}).text

    def network_estimates(self, key: str) -> NetworkEstimates:
        """A relative network's ΔΔG per edge, ΔG per ligand, cycle closures and statistics (HubError
        409 for an absolute network)."""
        return self._get(NetworkEstimates, f"{API_PREFIX}/networks/{_seg(key)}/estimates")

    def archive(self, key: str) -> dict[str, Any]:
        return dict(self._send("GET", f"{API_PREFIX}/networks/{_seg(key)}/archive").json())

    def add_repeats(self, network: str, count: int, transformations: list[str] | None = None) -> TaskChanges:
        body = {"count": count, "transformations": transformations}
        return self._post(TaskChanges, f"{API_PREFIX}/networks/{_seg(network)}/repeats", body)

    # -- tasks ----------------------------------------------------------------------------------

    def tasks(
        self,
        network: str,
        *,
        status: str | None = None,
        transformation: str | None = None,
        page_size: int = 2000,
    ) -> list[TaskOut]:
        params = {"network": network, "status": status, "transformation": transformation, "limit": page_size}
        return [TaskOut.model_validate(t) for t in self._pages(f"{API_PREFIX}/tasks", params)]

    def task(self, key: str) -> TaskOut:
        return self._get(TaskOut, f"{API_PREFIX}/tasks/{_seg(key)}")

    def set_priority(self, tasks: list[str], priority: int) -> TaskChanges:
        return self._post(TaskChanges, f"{API_PREFIX}/tasks/priority", {"tasks": tasks, "priority": priority})

    def cancel(self, tasks: list[str]) -> TaskChanges:
        return self._post(TaskChanges, f"{API_PREFIX}/tasks/cancel", {"tasks": tasks})

    def restart(
        self,
        *,
        network: str | None = None,
        tasks: list[str] | None = None,
        traceback_pattern: str | None = None,
    ) -> TaskChanges:
        body = {"network": network, "tasks": tasks, "traceback_pattern": traceback_pattern}
        return self._post(TaskChanges, f"{API_PREFIX}/tasks/restart", body)

    def extend(self, tasks: list[str], iterations: int) -> TaskChanges:
        return self._post(
            TaskChanges, f"{API_PREFIX}/tasks/extend", {"tasks": tasks, "iterations": iterations}
        )

    # -- results and DRS ------------------------------------------------------------------------

    def page_link(self, network: str) -> str:
        """A signed link to the network's results page (for a browser, which sends no token)."""
        return str(self._send("GET", f"{API_PREFIX}/networks/{_seg(network)}/page-link").json()["url"])

    def transformation_results(self, key: str) -> TransformationResults:
        return self._get(TransformationResults, f"{API_PREFIX}/transformations/{_seg(key)}/results")

    def result(self, key: str) -> dict[str, Any]:
        return dict(self._send("GET", f"{API_PREFIX}/results/{_seg(key)}").json())

    def drs_object(self, object_id: str) -> DrsObject:
        return self._get(DrsObject, f"{DRS_PREFIX}/objects/{object_id}")

    def drs_objects(self, object_ids: list[str], *, chunk: int = MAX_BULK) -> list[DrsObject]:
        """Bulk lookups, ``chunk`` ids per request; ids the caller cannot see are left out."""
        out: list[DrsObject] = []
        for i in range(0, len(object_ids), chunk):
            body = self._send(
                "POST", f"{DRS_PREFIX}/objects", json={"bulk_object_ids": object_ids[i : i + chunk]}
            ).json()
            out += [DrsObject.model_validate(o) for o in body["resolved_drs_object"]]
        return out

    def access_url(self, object_id: str, access_id: str) -> AccessURL:
        return self._get(AccessURL, f"{DRS_PREFIX}/objects/{object_id}/access/{access_id}")

    def download(self, obj: DrsObject | str, dest: Path) -> Path:
        """Write the object's bytes to ``dest`` (a file, or a folder to put ``obj.name`` in), checking sha-256."""
        drs = obj if isinstance(obj, DrsObject) else self.drs_object(obj)
        if not drs.access_methods:
            raise HubError(404, f"DRS object {drs.id} has no access method", "GET", drs.id)
        access = self.access_url(drs.id, drs.access_methods[0].access_id or drs.access_methods[0].type)
        target = dest / (drs.name or drs.id) if dest.is_dir() else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        extra = dict(h.split(": ", 1) for h in access.headers or [])
        digest = hashlib.sha256()
        tmp = target.with_name(target.name + ".part")
        attempt, deadline = 0, self._clock() + self.retry_total_s
        while True:
            try:
                # the access URL carries its own authorisation (presigned, or a signed hub link):
                # the bearer token is not sent along, so it never reaches an object store
                with self.http.stream("GET", access.url, headers=extra) as response:
                    if response.status_code in RETRY_STATUSES and self._pause(
                        attempt, deadline, response.headers.get("retry-after")
                    ):
                        attempt += 1
                        continue
                    if response.status_code >= 400:
                        raise HubError(
                            response.status_code, response.read().decode(errors="replace"), "GET", access.url
                        )
                    with open(tmp, "wb") as fh:
                        for chunk in response.iter_bytes():
                            digest.update(chunk)
                            fh.write(chunk)
                break
            except httpx.TransportError:
                if not self._pause(attempt, deadline):
                    raise
                attempt += 1
                digest = hashlib.sha256()
        expected = drs.sha256()
        # a blob's checksum is that of its bytes; a bundle's bytes are its manifest, whose checksum
        # the DRS object need not carry (the spec lets a bundle's checksum cover its contents)
        if expected and not drs.contents and digest.hexdigest() != expected:
            tmp.unlink(missing_ok=True)
            raise ChecksumError(f"{drs.id}: expected sha-256 {expected}, got {digest.hexdigest()}")
        os.replace(tmp, target)
        return target

    def fetch_network(self, network: str, dest: Path, *, workers: int = 8) -> list[Path]:
        """Every file of every completed task of ``network`` under ``dest/<folder>/``, concurrently,
        verified; a task's folder is named by its transformation and repeat
        (:func:`fepflow.hub.folders.task_folders`), and ``dest/tasks.tsv`` says which task each is."""
        archive = self.archive(network)
        bundles = self.drs_objects(archive["drs_ids"])
        done = [t for t in archive["tasks"] if t["drs_id"]]
        folders = task_folders(done)
        folder_of = {t["drs_id"]: folders[t["task"]] for t in done}
        if done:
            _write_task_index(dest / TASK_INDEX, done, folders)
        jobs: list[tuple[str, Path]] = []
        for bundle in bundles:
            folder = dest / folder_of.get(bundle.id, bundle.id)
            for item in bundle.contents or []:
                if item.id:
                    jobs.append((item.id, folder / item.name))
        members = {o.id: o for o in self.drs_objects([j[0] for j in jobs])} if jobs else {}
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda j: self.download(members.get(j[0]) or j[0], j[1]), jobs))
