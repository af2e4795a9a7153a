# pyredis as the Redis development service's container (what `redis:alpine` was).
#   docker compose up -d            # see compose.yaml: app_dev_redis_cache on localhost:6380
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/pyredis
COPY pyproject.toml README.md hatch_build.py ./
COPY src ./src
# gcc only while pip builds the wheel: it compiles the hot path (hatch_build.py; without a
# compiler the image would run interpreted, INFO server's pyredis_compiled:0).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 999 pyredis \
    && useradd --system --uid 999 --gid pyredis --home-dir /data --no-create-home --shell /usr/sbin/nologin pyredis \
    && mkdir -p /data \
    && chown pyredis:pyredis /data

# AOF and RDB files (appendonlydir/, dump.rdb): the redis_data volume.
VOLUME /data
WORKDIR /data
USER pyredis

EXPOSE 6379

# Exit code 1 unless the reply is PONG (-e: an error reply fails too, e.g. LOADING).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=5 \
    CMD ["pyredis-cli", "-e", "ping"]

# Listen on every interface inside the container (the port mapping decides who reaches it);
# protected mode off as in the official redis image. AOF on, fsync every second.
CMD ["pyredis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--port", "6379", \
     "--dir", "/data", "--appendonly", "yes", "--appendfsync", "everysec"]
