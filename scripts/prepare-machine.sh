#!/usr/bin/env bash
# Prepare a Debian bookworm machine (as root) to run the whole test suite
# against real engines: dockerd, Podman, containerd+nerdctl with BuildKit.
#
#   scripts/prepare-machine.sh install   # packages and pinned Go builds (idempotent)
#   scripts/prepare-machine.sh start     # start the daemons that are not running
#   scripts/prepare-machine.sh up        # install, then start: one command from nothing
#   scripts/prepare-machine.sh stop      # stop the daemons that `start` started
#   scripts/prepare-machine.sh env       # print the exports the tests need
#
# Nothing here pulls an image: the tests build theirs FROM scratch with the
# static busybox from Debian's busybox-static.
set -euo pipefail

NERDCTL_VERSION=v2.0.3    # last release that `go build`s from the module proxy and supports containerd 1.6
BUILDKIT_VERSION=v0.20.2  # buildkitd/buildctl pair; builds with the machine's Go
STATE=/run/runtimes-ci
LOGS=/var/log/runtimes-ci
CONF_DIR=/etc/runtimes-ci
BIN=/usr/local/bin

log() { printf '[prepare-machine] %s\n' "$*" >&2; }

go_build_pinned() {
    # `go install mod@version` needs the proxy's version list, which is not
    # served here; building inside the downloaded module works and reuses the
    # Go build cache, so a second run costs nothing.
    local module=$1 version=$2 binary=$3 package=$4
    log "building $binary $version"
    local dir
    dir=$(GOSUMDB=off GOFLAGS=-mod=mod go mod download -json "$module@$version" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    (cd "$dir" && CGO_ENABLED=0 GOSUMDB=off GOFLAGS="-mod=mod -buildvcs=false" \
        go build -o "$BIN/$binary.tmp" "./$package")
    mv "$BIN/$binary.tmp" "$BIN/$binary"
    printf '%s\n' "$version" >"$BIN/.$binary.version"
}

pinned_ok() { [[ -x $BIN/$1 && "$(cat "$BIN/.$1.version" 2>/dev/null)" == "$2" ]]; }

quiet_packaged_registry() {
    # The tests start their own registries on 127.0.0.1; the package's service
    # (port 5000 on every interface) must not run. Containers usually block
    # it through policy-rc.d; a machine with an init system may have started it.
    local pidfile=/var/run/docker-registry.pid
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        log "stopping the docker-registry service the package started"
        /etc/init.d/docker-registry stop || true
    fi
    if [[ -x /etc/init.d/docker-registry ]] && command -v update-rc.d >/dev/null; then
        update-rc.d docker-registry disable >/dev/null 2>&1 || true
    fi
}

quiet_packaged_databases() {
    # Only the binaries are wanted: a host Postgres (5432) or Redis (6379)
    # would take the ports the tests publish and outlive them. policy-rc.d
    # usually keeps them stopped; a machine with an init system starts them.
    if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
        systemctl disable --now postgresql redis-server >/dev/null 2>&1 || true
    fi
    # Pid files, not process names: the tests' own containers run processes
    # called postgres and redis-server too, visible from the host.
    local pidfile
    for pidfile in /run/postgresql/*.pid; do
        [[ -f $pidfile ]] && kill -0 "$(head -n 1 "$pidfile")" 2>/dev/null || continue
        log "stopping the Postgres cluster the package started"
        /etc/init.d/postgresql stop || true
        break
    done
    pidfile=/run/redis/redis-server.pid
    if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        log "stopping the Redis server the package started"
        /etc/init.d/redis-server stop || true
    fi
    local service
    for service in postgresql redis-server; do
        if [[ -x /etc/init.d/$service ]] && command -v update-rc.d >/dev/null; then
            update-rc.d "$service" disable >/dev/null 2>&1 || true
        fi
    done
}

install() {
    local packages=(docker.io podman containerd runc containernetworking-plugins busybox-static
        iptables netavark aardvark-dns conmon uidmap slirp4netns fuse-overlayfs catatonit curl)
    # Registry tests: Distribution 2.8 (`docker-registry`), htpasswd -B for its
    # bcrypt entries (reads the password on stdin), openssl for throwaway CAs.
    packages+=(docker-registry apache2-utils openssl)
    # Service images (runtimes.testing.rootfs): Postgres and Redis built FROM
    # scratch out of these packages' binaries; psql for the host-side checks.
    packages+=(postgresql-15 postgresql-client-15 redis-server redis-tools)
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    quiet_packaged_registry
    quiet_packaged_databases
    command -v go >/dev/null || { log "Go is required to build nerdctl and BuildKit"; exit 1; }
    pinned_ok nerdctl $NERDCTL_VERSION ||
        go_build_pinned github.com/containerd/nerdctl/v2 $NERDCTL_VERSION nerdctl cmd/nerdctl
    pinned_ok buildkitd $BUILDKIT_VERSION ||
        go_build_pinned github.com/moby/buildkit $BUILDKIT_VERSION buildkitd cmd/buildkitd
    pinned_ok buildctl $BUILDKIT_VERSION ||
        go_build_pinned github.com/moby/buildkit $BUILDKIT_VERSION buildctl cmd/buildctl
    mkdir -p "$CONF_DIR"
    # Without these limits runc fails here with "error setting rlimit type 7".
    cat >"$CONF_DIR/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
EOF
}

wait_for() {
    local what=$1 tries=$2; shift 2
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    log "$what did not come up; its log follows"
    tail -n 40 "$LOGS/$what.log" >&2 || true
    return 1
}

start_daemon() {
    local name=$1; shift
    mkdir -p "$STATE" "$LOGS"
    log "starting $name"
    setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$STATE/$name.pid"
}

start() {
    if ! curl -sf --unix-socket /var/run/docker.sock http://d/_ping >/dev/null 2>&1; then
        start_daemon dockerd dockerd --host=unix:///var/run/docker.sock
        wait_for dockerd 120 curl -sf --unix-socket /var/run/docker.sock http://d/_ping
    fi
    if ! ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
        start_daemon containerd containerd --address /run/containerd/containerd.sock
        wait_for containerd 60 ctr --address /run/containerd/containerd.sock version
    fi
    if ! buildctl --addr unix:///run/buildkit/buildkitd.sock debug workers >/dev/null 2>&1; then
        start_daemon buildkitd buildkitd --addr unix:///run/buildkit/buildkitd.sock \
            --oci-worker=true --containerd-worker=false
        wait_for buildkitd 60 buildctl --addr unix:///run/buildkit/buildkitd.sock debug workers
    fi
    wait_for containerd 60 nerdctl info
}

stop() {
    local name pid
    for name in buildkitd containerd dockerd; do
        [[ -f $STATE/$name.pid ]] || continue
        pid=$(cat "$STATE/$name.pid")
        if kill -0 "$pid" 2>/dev/null; then
            log "stopping $name"
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$STATE/$name.pid"
    done
}

env_exports() {
    echo "export CONTAINERS_CONF=$CONF_DIR/containers.conf"
    echo "export RUNTIMES_TEST_BUSYBOX=/bin/busybox"
}

case "${1:-}" in
install) install ;;
start) start ;;
up)
    install
    start
    ;;
stop) stop ;;
env) env_exports ;;
*)
    echo "usage: $0 install|start|up|stop|env" >&2
    exit 2
    ;;
esac
