#!/usr/bin/env bash
# `npm run image:test`: builds the Lethe image from the Dockerfile, runs it, waits for its health
# check, mints a token inside the container and reads the demo subject over HTTP from the host.
#
# Made for a machine where no registry image is reachable (see docs/deploy.md): the base image is
# built here with debootstrap (Debian bookworm, minbase) with this machine's Node and npm copied in,
# tagged localhost/lethe-base:bookworm-node<version>, and passed to the Dockerfile as BASE. The tag
# is the cache: a rerun skips debootstrap until the host's Node changes (IMAGE_TEST_REBUILD_BASE=1
# forces it). Needs root, podman, runc and debootstrap (Debian packages); the Debian mirror and the
# npm registry must be reachable.
#
# Not part of `npm test`: it takes minutes (the image's `npm ci` and build) and needs root.
set -euo pipefail

cd "$(dirname "$0")/.."

NODE_BIN=$(command -v node)
NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node')
BASE_TAG=${IMAGE_TEST_BASE:-localhost/lethe-base:bookworm-node${NODE_VERSION}}
IMAGE_TAG=${IMAGE_TEST_TAG:-localhost/lethe:image-test}
CONTAINER=lethe-image-test-$$
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

for tool in podman runc debootstrap curl; do
  command -v "$tool" >/dev/null || {
    echo "image-test: $tool is missing (apt-get install -y podman runc debootstrap curl)" >&2
    exit 2
  }
done
[ "$(id -u)" = 0 ] || {
  echo 'image-test: run as root (debootstrap and podman storage)' >&2
  exit 2
}

WORK=$(mktemp -d /tmp/lethe-image-test.XXXXXX)
# This machine's kernel refuses the default RLIMIT_NOFILE podman sets for containers; an empty
# list keeps the limits the runtime inherits.
printf '[containers]\ndefault_ulimits = []\n' >"$WORK/containers.conf"
export CONTAINERS_CONF="$WORK/containers.conf"

# No systemd in this machine's containers: cgroupfs instead of the systemd cgroup manager, and runc
# (Debian's podman defaults to crun, which is not installed).
pm() { podman --cgroup-manager=cgroupfs --runtime=runc "$@"; }

cleanup() {
  pm rm --force --time 5 "$CONTAINER" >/dev/null 2>&1 || true
  # An interrupted debootstrap leaves /proc and /sys mounted in the tree: never delete through them.
  for mount in proc sys; do umount --recursive --lazy "$WORK/rootfs/$mount" 2>/dev/null || true; done
  rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

step() { printf '\n== %s (%ss)\n' "$1" "$SECONDS"; }

build_base() {
  local rootfs="$WORK/rootfs"
  step "debootstrap bookworm minbase into $rootfs"
  # python3, make and g++ let the image's build stage compile better-sqlite3 without GitHub.
  debootstrap --variant=minbase --include=ca-certificates,python3,make,g++ \
    bookworm "$rootfs" "$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -20 "$WORK/debootstrap.log" >&2
    exit 1
  }
  step "copy this machine's Node $NODE_VERSION and npm into the base"
  local prefix npm_dir
  prefix=$(dirname "$(dirname "$(readlink -f "$NODE_BIN")")")
  npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
  install -D -m 0755 "$(readlink -f "$NODE_BIN")" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules" "$rootfs/usr/local/include"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  # Node's headers, where an official node image has them (npm_config_nodedir=/usr/local).
  if [ -d "$prefix/include/node" ]; then cp -a "$prefix/include/node" "$rootfs/usr/local/include/node"; fi
  # The certificate authorities this machine trusts beyond Debian's (here: the TLS proxy every
  # connection to the npm registry passes through), so that `npm ci` in the build trusts them
  # too. Node reads the system bundle only through NODE_EXTRA_CA_CERTS, set on the base below.
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
    chroot "$rootfs" update-ca-certificates >/dev/null
  fi
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  step "import the base as $BASE_TAG"
  tar -C "$rootfs" -c . | pm import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' - "$BASE_TAG" >/dev/null
  rm -rf "$rootfs"
}

if [ "${IMAGE_TEST_REBUILD_BASE:-0}" = 1 ] || ! pm image exists "$BASE_TAG"; then
  build_base
else
  step "base $BASE_TAG exists: debootstrap skipped"
fi

step "build $IMAGE_TAG from the Dockerfile with BASE=$BASE_TAG"
# --format docker: the OCI image format has no HEALTHCHECK, and podman would drop it.
pm build --format docker --build-arg "BASE=$BASE_TAG" --tag "$IMAGE_TAG" --file Dockerfile . >"$WORK/build.log" 2>&1 || {
  tail -40 "$WORK/build.log" >&2
  exit 1
}

step "run it (serve --demo, /data a fresh anonymous volume)"
PORT=$("$NODE_BIN" -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# Without systemd podman cannot time the health checks and says so on stderr (kept in run.log);
# the image's HEALTHCHECK is run below with `podman healthcheck run`.
pm run --detach --name "$CONTAINER" --publish "127.0.0.1:$PORT:7420" "$IMAGE_TAG" serve --demo \
  >/dev/null 2>"$WORK/run.log" || {
  cat "$WORK/run.log" >&2
  exit 1
}

fail() {
  echo "image-test: $1" >&2
  pm logs "$CONTAINER" 2>&1 | tail -30 >&2
  exit 1
}

for _ in $(seq 1 60); do
  curl --silent --fail "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  [ "$(pm inspect --format '{{.State.Running}}' "$CONTAINER")" = true ] || fail 'the container stopped'
  sleep 1
done
curl --silent --fail "http://127.0.0.1:$PORT/healthz" >/dev/null || fail '/healthz did not answer within 60 s'

step "the image's HEALTHCHECK passes"
pm healthcheck run "$CONTAINER" || fail 'podman healthcheck run failed'

step 'the server runs as the lethe user, not root'
uid=$(pm exec "$CONTAINER" id -u)
[ "$uid" = 10001 ] || fail "the server runs as uid $uid, not 10001"

step 'mint an admin token inside the container'
TOKEN=$(pm exec "$CONTAINER" lethe token create --role admin --ttl 10m 2>/dev/null)
[ -n "$TOKEN" ] || fail 'lethe token create printed no token'

step 'read the demo subject over HTTP from the host'
subject=$(curl --silent --show-error --fail -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/v1/subjects/u-1001")
echo "$subject" | "$NODE_BIN" -e '
  const body = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (body.subject !== "u-1001" || !Array.isArray(body.fields) || body.fields.length === 0) {
    console.error("unexpected subject:", JSON.stringify(body).slice(0, 300));
    process.exit(1);
  }
  console.log(`u-1001: ${body.fields.length} fields`);
' || fail 'the demo subject did not come back'

step 'the dashboard and /metrics are served'
# Read whole, then searched: `curl | grep -q` fails under pipefail when grep stops reading early.
page=$(curl --silent --fail "http://127.0.0.1:$PORT/") || fail 'no answer at /'
grep -q '<div id="root">' <<<"$page" || fail 'no dashboard at /'
metrics=$(curl --silent --fail "http://127.0.0.1:$PORT/metrics") || fail 'no answer at /metrics'
grep -q '^# TYPE lethe_http_request_duration_seconds histogram' <<<"$metrics" ||
  fail '/metrics lacks lethe_http_request_duration_seconds'

step "image size: $(pm image inspect --format '{{.Size}}' "$IMAGE_TAG") bytes"
step "image test passed"
