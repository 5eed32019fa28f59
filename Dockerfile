# syntax=docker/dockerfile:1
# The storefront image. Dependencies are built in the full Python image, which has the
# compilers and headers a source-only wheel would need; the runtime stage is the slim image
# with none of them. Both stages share one Python build, so the venv moves across intact.
ARG PYTHON_VERSION=3.11.14

FROM python:${PYTHON_VERSION}-bookworm AS builder
WORKDIR /build
COPY requirements.txt pyproject.toml ./
# Only the storefront's runtime (pyproject's [project] dependencies), at the versions
# requirements.txt pins: the image carries neither Pulumi nor the test tools.
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > runtime.in \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
      --constraint requirements.txt --requirement runtime.in

FROM python:${PYTHON_VERSION}-slim-bookworm
ARG APP_UID=10001
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    FLASK_APP=app \
    APP_ENV=production \
    PORT=8000
# A fixed, numeric, unprivileged identity: Kubernetes can then verify runAsNonRoot, and
# volume ownership (fsGroup) is predictable.
RUN groupadd --system --gid "${APP_UID}" shop \
 && useradd --system --uid "${APP_UID}" --gid shop --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin shop
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/shop
# The code stays owned by root: the process can read it, never rewrite it.
COPY app/ app/
COPY migrations/ migrations/
# Bytecode is compiled now, since the read-only root filesystem can't take it at runtime.
RUN python -m compileall -q app migrations
USER ${APP_UID}:${APP_UID}
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=3)"]
CMD ["gunicorn", "--config", "app/gunicorn_conf.py", "app:create_app()"]
