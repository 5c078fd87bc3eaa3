"""Render Dagster's official Helm chart with fepflow's values into tests/data/helm/rendered.yaml.

    python deploy/helm/render.py --helm /path/to/helm --chart /path/to/dagster-1.13.27.tgz
    python deploy/helm/render.py --check ...      # exit 1 when the committed snapshot differs

(--helm and --chart default to $FEPFLOW_HELM and $FEPFLOW_DAGSTER_CHART.) The chart is the packaged chart
(`helm pull dagster/dagster --version X`, a .tgz) or its folder (`helm/dagster` of Dagster's repository at the
release tag). It is copied to a temporary folder first, where two things are changed so that rendering works
offline and nothing is fetched:

- the chart's values.schema.json files point at Kubernetes definitions on the web
  (kubernetesjsonschema.dev); they are pointed at the same definitions (for --kube-version) shipped by the
  kubernetes-validate package, so `helm lint` and `helm template` still apply the chart's schema;
- a subchart dependency absent from charts/ (a source checkout has no postgresql/rabbitmq/redis) is
  dropped from Chart.yaml when its condition is off in the values; when it is on, rendering stops.

Then `helm lint` (the chart's schema and templates) and `helm template` run, and the output is written with
a header naming the chart, helm and the sha256 of the values file; tests/unit/test_helm_rendered.py
validates the manifests and fails when the values file changed since.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "helm" / "dagster-values.yaml"
OUTPUT = ROOT / "tests" / "data" / "helm" / "rendered.yaml"
RELEASE = "dagster"  # the release name the Ingress and docs of deploy/helm/fepflow.yaml assume
NAMESPACE = "fepflow"
KUBE_VERSION = "1.30.0"  # as tests/unit/test_k8s_manifests.py
REMOTE_DEFINITIONS = re.compile(r"https://kubernetesjsonschema\.dev/v[0-9.]+(?:-[a-z-]+)?/_definitions\.json")
HEADER_PREFIX = "# "


class RenderError(RuntimeError):
    """The chart could not be rendered: the message says why."""


@dataclass(frozen=True)
class Rendered:
    header: dict[str, str]
    manifests: str

    def text(self) -> str:
        lines = [
            "# Dagster's official Helm chart rendered with deploy/helm/dagster-values.yaml, by",
            "# deploy/helm/render.py (do not edit; re-render after changing the values).",
        ]
        lines += [f"{HEADER_PREFIX}{key}: {value}" for key, value in self.header.items()]
        return "\n".join(lines) + "\n" + self.manifests


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_header(text: str) -> dict[str, str]:
    """The `# key: value` lines at the top of a rendered file."""
    header: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, sep, value = line[len(HEADER_PREFIX) :].partition(": ")
        if sep and " " not in key:
            header[key] = value
    return header


def manifests_of(text: str) -> str:
    """The rendered manifests without the header."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return "".join(lines[start:])


def _run(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    except FileNotFoundError as exc:
        raise RenderError(
            f"{argv[0]} was not found: give the helm binary with --helm or $FEPFLOW_HELM"
        ) from exc
    if done.returncode != 0:
        output = "\n".join(part.strip() for part in (done.stdout, done.stderr) if part.strip())
        raise RenderError(f"`{' '.join(argv)}` failed ({done.returncode}):\n{output}")
    return done.stdout


def _kubernetes_definitions(kube_version: str, dest: Path) -> Path:
    """Kubernetes' definitions (kubernetes-validate's copy, non-strict like kubernetesjsonschema.dev's) in
    the `#/definitions/...` layout the chart's schema refers to."""
    import kubernetes_validate

    source = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{kube_version}-local"
        / "_definitions.json"
    )
    if not source.is_file():
        raise RenderError(f"kubernetes-validate has no definitions for Kubernetes {kube_version} ({source})")
    definitions = json.loads(source.read_text())["$defs"]
    text = json.dumps({"definitions": definitions}).replace('"#/$defs/', '"#/definitions/')
    dest.write_text(text)
    return dest


def _unpack(chart: Path, workdir: Path) -> Path:
    if chart.is_dir():
        target = workdir / chart.name
        shutil.copytree(chart, target)
        return target
    if chart.is_file() and tarfile.is_tarfile(chart):
        with tarfile.open(chart) as archive:
            archive.extractall(workdir / "unpacked", filter="data")
        (folder,) = (workdir / "unpacked").iterdir()
        return folder
    raise RenderError(f"{chart} is neither a chart folder nor a packaged chart (.tgz)")


def _enabled(values: dict[str, Any], defaults: dict[str, Any], condition: str) -> bool:
    for source in (values, defaults):
        node: Any = source
        for part in condition.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return bool(node)
    return True


def _prepare(chart_dir: Path, values: dict[str, Any], definitions: Path) -> list[str]:
    """Point the schemas at the local definitions; drop absent, disabled subcharts. Returns those dropped."""
    for schema in chart_dir.rglob("values.schema.json"):
        schema.write_text(REMOTE_DEFINITIONS.sub(definitions.as_uri(), schema.read_text()))
    chart_yaml = chart_dir / "Chart.yaml"
    meta = yaml.safe_load(chart_yaml.read_text())
    defaults = yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}
    charts = chart_dir / "charts"
    present = {p.name for p in charts.iterdir()} if charts.is_dir() else set()
    kept, dropped = [], []
    for dep in meta.get("dependencies") or []:
        name = dep["name"]
        if name in present or any(p.startswith(f"{name}-") and p.endswith(".tgz") for p in present):
            kept.append(dep)
        elif dep.get("condition") and not _enabled(values, defaults, dep["condition"]):
            dropped.append(f"{name} {dep.get('version', '')}".strip())
        else:
            raise RenderError(
                f"the chart's dependency {name} is not in {charts} and is enabled "
                f"({dep.get('condition')}): run `helm dependency build` on the chart first"
            )
    if dropped:
        meta["dependencies"] = kept
        chart_yaml.write_text(yaml.safe_dump(meta, sort_keys=False))
        (chart_dir / "Chart.lock").unlink(missing_ok=True)
    return dropped


def render(
    helm: str,
    chart: Path,
    values_path: Path = VALUES,
    release: str = RELEASE,
    namespace: str = NAMESPACE,
    kube_version: str = KUBE_VERSION,
) -> Rendered:
    values = yaml.safe_load(values_path.read_text()) or {}
    helm_version = _run([helm, "version", "--template", "{{.Version}}"]).strip()
    with tempfile.TemporaryDirectory(prefix="fepflow-helm-") as tmp:
        work = Path(tmp)
        chart_dir = _unpack(chart, work)
        meta = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
        dropped = _prepare(
            chart_dir, values, _kubernetes_definitions(kube_version, work / "k8s-definitions.json")
        )
        common = ["-f", str(values_path), "--namespace", namespace, "--kube-version", kube_version]
        _run([helm, "lint", str(chart_dir), *common])
        manifests = _run([helm, "template", release, str(chart_dir), *common])
    header = {
        "chart": f"{meta['name']} {meta['version']} (appVersion {meta.get('appVersion', '?')})",
        "chart_source": chart.name + (f" sha256 {sha256_file(chart)}" if chart.is_file() else " (folder)"),
        "helm": helm_version,
        "values": f"{values_path.relative_to(ROOT) if values_path.is_relative_to(ROOT) else values_path}",
        "values_sha256": sha256_file(values_path),
        "release": release,
        "namespace": namespace,
        "kube_version": kube_version,
        "schema_definitions": f"kubernetes-validate v{kube_version}-local (for kubernetesjsonschema.dev)",
        "dropped_dependencies": ", ".join(dropped) or "none",
    }
    return Rendered(header=header, manifests=manifests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--helm", default=os.environ.get("FEPFLOW_HELM", "helm"))
    parser.add_argument("--chart", default=os.environ.get("FEPFLOW_DAGSTER_CHART"))
    parser.add_argument("--values", type=Path, default=VALUES)
    parser.add_argument("--out", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare with --out instead of writing it")
    args = parser.parse_args(argv)
    if not args.chart:
        parser.error("give the chart (folder or .tgz) with --chart or $FEPFLOW_DAGSTER_CHART")
    try:
        rendered = render(args.helm, Path(args.chart), args.values.resolve())
    except RenderError as exc:
        sys.stderr.write(f"render: {exc}\n")
        return 1
    if args.check:
        same = args.out.is_file() and manifests_of(args.out.read_text()) == rendered.manifests
        sys.stderr.write(f"render: {args.out} {'matches' if same else 'differs from'} a fresh render\n")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(rendered.text())
    kinds = [d["kind"] for d in yaml.safe_load_all(rendered.manifests) if d]
    sys.stderr.write(f"render: wrote {len(kinds)} manifests to {args.out} ({rendered.header['chart']})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
