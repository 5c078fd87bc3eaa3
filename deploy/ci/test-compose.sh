#!/usr/bin/env bash
# `make test-compose`: build fepflow's image, bring the compose stack up, and run a real round trip
# through it (tests/compose/test_compose_stack.py): create the first user with `fepflow admin add-user`
# in the api container, log in, submit a one-ligand network with the smoke preset through the hub, wait
# for its result in the index, download its DRS object and check its checksum. The stack is taken down
# (volumes too) at the end; its logs are printed when something failed.
#
# Where no image registry is reachable (FEPFLOW_COMPOSE_CI=1, the default), the base image comes from
# debootstrap (deploy/ci/base-image.sh) and docker-compose.ci.yml swaps the third-party images for
# stand-ins (deploy/ci/Dockerfile.services). FEPFLOW_COMPOSE_CI=0 uses the official images.
# Prints the seconds each phase took.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-fepflow-test}"
ci="${FEPFLOW_COMPOSE_CI:-1}"
python="${PYTHON_BIN:-.venv/bin/python}"
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
files=(-f docker-compose.yml)
[ "$ci" = 1 ] && files+=(-f docker-compose.ci.yml)

# ports of their own, so a developer's `make up-dev` or `make dev` on the usual ports is left alone
export FEPFLOW_HUB_PORT="${FEPFLOW_HUB_PORT:-18000}" FEPFLOW_DAGIT_PORT="${FEPFLOW_DAGIT_PORT:-13000}"
export FEPFLOW_S3_PORT="${FEPFLOW_S3_PORT:-18333}"
export FEPFLOW_API_PUBLIC_URL="http://127.0.0.1:$FEPFLOW_HUB_PORT"
export FEPFLOW_S3_PUBLIC_URL="http://127.0.0.1:$FEPFLOW_S3_PORT"
export FEPFLOW_IMAGE="${FEPFLOW_IMAGE:-fepflow:compose-test}"
export FEPFLOW_AUTH_SECRET_KEY
FEPFLOW_AUTH_SECRET_KEY="$(head -c 48 /dev/urandom | base64 | tr -d '\n+/=')"
base="python:3.11-slim-bookworm"

now() { date +%s; }
phase() { echo "== test-compose: $1"; }
t0=$(now)

if [ "$ci" = 1 ]; then
  phase "base image (debootstrap + docker import)"
  base="fepflow-base:bookworm"
  deploy/ci/base-image.sh "$base"
fi
t_base=$(now)

phase "build $FEPFLOW_IMAGE FROM $base"
# the stand-ins' image builds beside fepflow's (both wait mostly on downloads)
services_log="$(mktemp)"
if [ "$ci" = 1 ]; then
  docker build -q -t "${FEPFLOW_CI_SERVICES_IMAGE:-fepflow-ci-services:latest}" \
    --build-arg BASE_IMAGE="$base" -f deploy/ci/Dockerfile.services deploy/ci >"$services_log" 2>&1 &
  services_build=$!
fi
docker build -q -t "$FEPFLOW_IMAGE" --build-arg PYTHON_IMAGE="$base" \
  --build-arg FEPFLOW_EXTRAS="${FEPFLOW_EXTRAS:-}" . >/dev/null
if [ "$ci" = 1 ] && ! wait "$services_build"; then
  cat "$services_log" >&2
  exit 1
fi
rm -f "$services_log"
t_build=$(now)

down() {
  "${compose[@]}" "${files[@]}" --profile cpu --profile gpu --profile operator down -v --remove-orphans \
    >/dev/null 2>&1 || true
}
failed() {
  echo "== test-compose failed: the services' last log lines" >&2
  "${compose[@]}" "${files[@]}" ps >&2 || true
  "${compose[@]}" "${files[@]}" logs --tail 60 >&2 || true
}
trap 'code=$?; [ "$code" -ne 0 ] && failed; down; exit "$code"' EXIT
down

phase "up"
"${compose[@]}" "${files[@]}" up -d --no-build
# healthy: every long-running service reports healthy (createbucket has exited 0 before the app
# services start: they depend on it)
deadline=$(( $(now) + ${FEPFLOW_COMPOSE_HEALTHY_S:-420} ))
services=(postgres mongodb s3 redis webserver daemon api)
while :; do
  unhealthy=()
  for s in "${services[@]}"; do
    id="$("${compose[@]}" "${files[@]}" ps -q "$s")"
    state="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)"
    [ "$state" = healthy ] || unhealthy+=("$s:$state")
  done
  [ "${#unhealthy[@]}" -eq 0 ] && break
  if [ "$(now)" -gt "$deadline" ]; then echo "not healthy in time: ${unhealthy[*]}" >&2; exit 1; fi
  sleep 3
done
t_up=$(now)

phase "round trip (first user, submit through the hub, result indexed, DRS download)"
FEPFLOW_COMPOSE_HUB="$FEPFLOW_API_PUBLIC_URL" FEPFLOW_COMPOSE_CMD="${compose[*]} ${files[*]}" \
  "$python" -m pytest tests/compose -q -p no:cacheprovider
t_trip=$(now)

echo "test-compose: base image $((t_base - t0)) s, build $((t_build - t_base)) s, up to healthy $((t_up - t_build)) s, round trip $((t_trip - t_up)) s, total $((t_trip - t0)) s"
