# Sourced by the image checks: on a fresh machine that reaches no container registry, install
# Docker and mmdebstrap, start a private dockerd (stopped by PID on exit, with everything it made),
# and make the stand-in base image (Debian bookworm's Python 3.11, the host's CA certificates,
# `python` -> `python3`, no EXTERNALLY-MANAGED marker). Sets WORK, DOCKER_HOST and BASE.
REPO=$PWD
BIN=$REPO/.venv/bin
BASE=alexnet-kfp-base:bookworm
WORK=$(mktemp -d /tmp/alexnet-kfp-image-check.XXXXXX)
DOCKERD_PID=""
step() { echo "== ${CHECK_NAME:-image check}: $*"; }

OTHER_PIDS=""  # services a check starts besides dockerd (a registry): stopped first, by PID
cleanup() {
    for pid in $OTHER_PIDS $DOCKERD_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            wait "$pid" 2>/dev/null || true
        fi
    done
    # dockerd leaves its network namespace file (and, if killed early, overlay mounts) mounted.
    grep -o " $WORK[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

step "installing docker.io and mmdebstrap"
if ! command -v dockerd >/dev/null || ! command -v mmdebstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io mmdebstrap >/dev/null
fi

step "starting a private dockerd"
export DOCKER_HOST="unix://$WORK/docker.sock"
dockerd --iptables=false --bridge=none --storage-driver overlay2 --host "$DOCKER_HOST" \
    --data-root "$WORK/docker-data" --exec-root "$WORK/docker-exec" --pidfile "$WORK/dockerd.pid" \
    >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
docker info >/dev/null 2>&1 || { cat "$WORK/dockerd.log"; exit 1; }

step "making the stand-in base image $BASE (Debian bookworm, python3, host CA certificates)"
mmdebstrap --quiet --variant=minbase --include=python3,python3-pip,python3-venv,ca-certificates,passwd \
    --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
    --customize-hook='ln -sf python3 "$1"/usr/bin/python' \
    --customize-hook='cp /etc/ssl/certs/ca-certificates.crt "$1"/etc/ssl/certs/ca-certificates.crt' \
    bookworm "$WORK/base.tar" /etc/apt/sources.list.d/debian.sources
docker import "$WORK/base.tar" "$BASE" >/dev/null
rm "$WORK/base.tar"

# build_image FLAVOUR TAG: the project image FROM the stand-in base, timed; prints its size.
build_image() {
    local started=$SECONDS
    docker build --quiet --network host --build-arg BASE_IMAGE="$BASE" --build-arg TF_FLAVOUR="$1" -t "$2" . >/dev/null
    docker image ls "$2" --format "built {{.Repository}}:{{.Tag}} ($1 flavour): {{.Size}} in $((SECONDS - started)) s"
}
