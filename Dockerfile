# syntax=docker/dockerfile:1
# okr-operator image: the wheel is built in one stage and installed into a virtualenv, which the slim,
# non-root runtime stage copies. Build and push (the project's machines have no Docker):
#
#   docker build -t <registry>/okr-operator:0.1.0 .
#   docker push <registry>/okr-operator:0.1.0
#
# then point config/ (`kustomize edit set image okr-operator=<registry>/okr-operator:0.1.0`) or the chart
# (`--set image.repository=<registry>/okr-operator`) at it.
#
# Base image: pinned to a full Python release and Debian suite. Pin its digest too for reproducible
# releases (it could not be resolved on the project's machines, which have no Docker and no registry
# access besides package indexes):
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm     # -> sha256:...
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> ...
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel needs (see .dockerignore): the package sources and their metadata.
COPY pyproject.toml ./
COPY operator/ operator/
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/okr-operator \
 && /opt/okr-operator/bin/pip install /wheels/okr_operator-*.whl \
 && /opt/okr-operator/bin/pip uninstall -y pip setuptools \
 && /opt/okr-operator/bin/okr-operator --help >/dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="okr-operator" \
      org.opencontainers.image.description="OKRs and SLOs as Kubernetes resources" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/okr-operator/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
COPY --from=build /opt/okr-operator /opt/okr-operator
# A numeric user, so that the pod's runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["okr-operator"]
CMD ["run"]
