# syntax=docker/dockerfile:1
# The Lethe server image: `lethe serve` with the API, the dashboard and the background jobs.
#   docker build -t lethe .            (or podman build; see docs/deploy.md)
#   docker run -p 7420:7420 -v lethe-data:/data lethe serve --demo
# BASE is any Debian-like image with Node 20+ and npm on PATH; `npm run image:test` passes a base
# built locally with debootstrap because no registry image is reachable where it runs.
ARG BASE=node:20-bookworm-slim

FROM ${BASE} AS build
# better-sqlite3 is native: its prebuilt binary comes from GitHub; when that is not reachable (or no
# binary fits) node-gyp compiles it against the headers of the Node in this image, never downloaded.
ENV npm_config_nodedir=/usr/local
RUN command -v g++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null \
  || (apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*)
WORKDIR /app
# Manifests first: the dependency layer is reused until one of them changes.
COPY package.json package-lock.json ./
COPY packages/api/package.json packages/api/
COPY packages/client/package.json packages/client/
COPY packages/server/package.json packages/server/
COPY packages/server/bin packages/server/bin
COPY packages/dashboard/package.json packages/dashboard/
# --ignore-scripts: the root `prepare` would build before the sources are here; the native
# dependencies' own install scripts are run right after.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3 esbuild
COPY tsconfig.base.json ./
COPY packages packages
# The runtime's tree, gathered in /out: production dependencies (npm keeps a package nested in a
# workspace's node_modules when versions differ, so those come along) and the built packages (the
# dashboard's dist is served at /, the server's proto files by the gRPC rights client).
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
  && mkdir -p /out \
  && cp -a package.json node_modules /out/ \
  && for package in api client dashboard server; do \
    mkdir -p /out/packages/$package \
    && cp -a packages/$package/package.json packages/$package/dist /out/packages/$package/ \
    && if [ -d packages/$package/node_modules ]; then cp -a packages/$package/node_modules /out/packages/$package/; fi; \
  done \
  && cp -a packages/server/bin packages/server/proto /out/packages/server/

FROM ${BASE}
WORKDIR /app
COPY --from=build /out /app
# A fixed uid so that a volume's owner is known in advance (chown 10001 on the host side).
RUN groupadd --system --gid 10001 lethe \
  && useradd --system --uid 10001 --gid lethe --home-dir /data --no-create-home --shell /usr/sbin/nologin lethe \
  && mkdir -p /data && chown lethe:lethe /data && chmod 0700 /data \
  && ln -s /app/packages/server/bin/lethe.js /usr/local/bin/lethe
ENV NODE_ENV=production \
  LETHE_DATA_DIR=/data \
  LETHE_HOST=0.0.0.0 \
  PORT=7420
USER lethe
VOLUME ["/data"]
EXPOSE 7420
# The slim base has no curl: Node's fetch asks /healthz on the port the server listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||7420)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["lethe"]
CMD ["serve"]
