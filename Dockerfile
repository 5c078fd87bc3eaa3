# syntax=docker/dockerfile:1
#
# One image for every fepflow service of the compose stack: Dagster webserver and daemon, the FastAPI
# hub, and the dagster-celery GPU workers.
#
#   docker build -t fepflow:dev .                              # CPU only (OpenMM CPU/OpenCL platforms)
#   docker build -t fepflow:dev --build-arg FEPFLOW_EXTRAS=gpu .   # + OpenMM's CUDA 12 platform
#
# Debian bookworm: the openmm 8.6.1 wheels need glibc >= 2.34 (bookworm has 2.36). The CUDA platform
# (extra `gpu` = openmm[cuda12]) brings the CUDA runtime as pip packages; the driver comes from the
# host through the NVIDIA container toolkit.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------------
# Requirements: the pinned runtime dependencies (plus FEPFLOW_EXTRAS) read out of pyproject.toml. The
# builder copies only this list, so the long dependency install below is rebuilt when a runtime pin
# changes, not when anything else in pyproject.toml does (dev tools, settings of linters).
FROM ${PYTHON_IMAGE} AS requirements
ARG FEPFLOW_EXTRAS=""
COPY pyproject.toml /src/pyproject.toml
RUN python -c "import os, tomllib; \
project = tomllib.load(open('/src/pyproject.toml', 'rb'))['project']; \
extras = [e for e in os.environ.get('FEPFLOW_EXTRAS', '').split(',') if e]; \
reqs = project['dependencies'] + [r for e in extras for r in project['optional-dependencies'][e]]; \
open('/requirements.txt', 'w').write(chr(10).join(reqs) + chr(10))"

# ---------------------------------------------------------------------------------------------------
# Runtime: one stage. Every pinned dependency has a wheel except pdbfixer, a pure-Python source
# distribution, so no compiler is needed and the virtual environment is built in place: no copy of
# its 2 GB between stages, and editing the code rebuilds only the small layers at the end. (A new pin
# that compiles C needs a builder stage with build-essential again.) A non-root user runs it.
FROM ${PYTHON_IMAGE} AS runtime

ARG FEPFLOW_UID=10001

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_HOME=/opt/dagster/home \
    MPLBACKEND=Agg \
    FEPFLOW_API_HOST=0.0.0.0

# Shared libraries the wheels expect from the system (found with ldd over the installed environment):
# libgomp1 for AmberTools' OpenMP programs, the X11 render libraries for RDKit's cairo drawing code.
# libstdc++6, libgcc-s1 and zlib1g (OpenMM, sqm, tleap) are already in the slim image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 libx11-6 libxext6 libxrender1 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid ${FEPFLOW_UID} fepflow \
    && useradd --system --uid ${FEPFLOW_UID} --gid fepflow --create-home --home-dir /home/fepflow \
       --shell /usr/sbin/nologin fepflow

# Dependencies first, so that editing the code (or pyproject.toml outside the runtime pins) does not
# reinstall OpenMM, RDKit and AmberTools. pip compiles them to bytecode here (PYTHONDONTWRITEBYTECODE
# stops only the services from writing more).
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
    && pip install -r /tmp/requirements.txt

WORKDIR /opt/fepflow

# The project itself, installed into the environment without touching the dependencies (the `fepflow`
# command, package data); workspace.yaml loads the python module orchestrator.definitions relative to
# this folder. README.md* tolerates a missing readme.
COPY workspace.yaml pyproject.toml README.md* ./
COPY fepflow/ fepflow/
COPY orchestrator/ orchestrator/
COPY api/ api/
RUN pip install --no-deps . \
    && rm -rf build *.egg-info \
    && cd / && python -c "import fepflow, orchestrator, api"
COPY deploy/ deploy/

# The instance configuration (PostgreSQL storage, read from DAGSTER_PG_*; the repository's top-level
# dagster.yaml is the local SQLite one for `dagster dev` and stays out of the image). DAGSTER_HOME must be
# writable: the daemon and the celery workers write local artifacts and their config there; the
# compose stack mounts a shared volume on $DAGSTER_HOME/storage (created here with the right owner,
# so a new named volume inherits it).
COPY deploy/dagster-postgres.yaml ${DAGSTER_HOME}/dagster.yaml
RUN mkdir -p ${DAGSTER_HOME}/storage \
    && chown -R fepflow:fepflow ${DAGSTER_HOME}

USER fepflow

EXPOSE 3000 8000

# Each compose service gives its own command; this default serves the hub on $FEPFLOW_API_HOST
# (0.0.0.0 above), so the hub knows it serves other machines: it refuses to start without a real
# FEPFLOW_AUTH_SECRET_KEY (32+ random characters) and says so.
CMD ["sh", "-c", "exec uvicorn api.main:app --host \"$FEPFLOW_API_HOST\" --port 8000"]
