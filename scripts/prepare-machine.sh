#!/usr/bin/env bash
# Prepare a Debian bookworm machine (as root) to run the whole test suite
# against real engines: dockerd, Podman, containerd+nerdctl with BuildKit.
#
#   scripts/prepare-machine.sh install   # packages and pinned Go builds (idempotent)
#   scripts/prepare-machine.sh start     # start the daemons that are not running
#   scripts/prepare-machine.sh up        # install, then start: one command from nothing
#   scripts/prepare-machine.sh stop      # stop the daemons that `start` started
#   scripts/prepare-machine.sh env       # print the exports the tests need
#   scripts/prepare-machine.sh env containerd1.6   # ... for the second nerdctl leg
#   scripts/prepare-machine.sh kube-install   # build the Kubernetes binaries (scripts/kube-cluster.sh)
#   scripts/prepare-machine.sh kube-start     # start the one-node cluster
#   scripts/prepare-machine.sh kube-stop      # stop it, leaving the machine as before
#   scripts/prepare-machine.sh kube-env       # print its exports (KUBECONFIG, ...)
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
SRC=/var/cache/runtimes-ci/src   # writable copies of modules that need a fix to build

# The main nerdctl leg: the newest nerdctl the module proxy serves (v2.1.x and
# v2.3.0 are refused) on the newest containerd 2 that builds here. Both live in
# $CD2/bin, beside each other: Debian's containerd 1.6 (used by dockerd) stays
# the system one, with nerdctl $NERDCTL_VERSION in $BIN (nerdctl >= 2.1.4
# no longer supports containerd 1.6).
CONTAINERD2_VERSION=v2.4.2
NERDCTL2_VERSION=v2.2.2
CD2=/usr/local/lib/runtimes-containerd2
CD2_SOCK=/run/runtimes-containerd2/containerd.sock
CD2_ROOT=/var/lib/runtimes-containerd2

log() { printf '[prepare-machine] %s\n' "$*" >&2; }

# go_build_pinned MODULE VERSION BINARY PACKAGE [DIR] [LDFLAGS]
go_build_pinned() {
    # `go install mod@version` needs the proxy's version list, which is not
    # served here; building inside the downloaded module works and reuses the
    # Go build cache, so a second run costs nothing.
    local module=$1 version=$2 binary=$3 package=$4 dest=${5:-$BIN} ldflags=${6:-}
    log "building $binary $version"
    local dir
    dir=$(GOSUMDB=off GOFLAGS=-mod=mod go mod download -json "$module@$version" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    if grep -q '=> ./mod/tigron' "$dir/go.mod"; then
        dir=$(with_tigron_stub "$dir" "$module@$version")
    fi
    mkdir -p "$dest"
    (cd "$dir" && CGO_ENABLED=0 GOSUMDB=off GOFLAGS="-mod=mod -buildvcs=false" \
        go build -ldflags "$ldflags" -o "$dest/$binary.tmp" "./$package")
    mv "$dest/$binary.tmp" "$dest/$binary"
    printf '%s\n' "$version" >"$dest/.$binary.version"
}

# pinned_ok BINARY VERSION [DIR]
pinned_ok() { [[ -x ${3:-$BIN}/$1 && "$(cat "${3:-$BIN}/.$1.version" 2>/dev/null)" == "$2" ]]; }

# nerdctl_ok VERSION DIR: built, and says which release it is (the nerdctl
# adapter declares its log losses by it; a plain `go build` says "<unknown>").
nerdctl_ok() {
    pinned_ok nerdctl "$1" "$2" && [[ "$("$2/nerdctl" --version)" == "nerdctl version ${1#v}" ]]
}

with_tigron_stub() {
    # nerdctl >= 2.0.4 replaces its test framework (module mod/tigron) by a
    # directory that the module zip leaves out, being a module of its own, so
    # Go refuses to build it. cmd/nerdctl compiles one test helper that names
    # only tigron's tig.T interface: a copy of the tree with that stubbed builds.
    local dir=$1 tree=$SRC/${2//\//_}
    if [[ ! -f $tree/mod/tigron/tig/tig.go ]]; then
        rm -rf "$tree"
        mkdir -p "$SRC"
        cp -r "$dir" "$tree"
        chmod -R u+w "$tree"
        mkdir -p "$tree/mod/tigron/tig"
        printf 'module github.com/containerd/nerdctl/mod/tigron\n\ngo 1.24\n' >"$tree/mod/tigron/go.mod"
        cat >"$tree/mod/tigron/tig/tig.go" <<'EOF'
// Package tig stands in for nerdctl's test framework, absent from its module zip.
package tig

// T is what nerdctl's compiled-in test helpers call on a *testing.T.
type T interface {
	Log(args ...any)
	FailNow()
}
EOF
    fi
    printf '%s\n' "$tree"
}

nerdctl_ldflags() { printf '%s' "-X github.com/containerd/nerdctl/v2/pkg/version.Version=$1"; }

install_containerd2() {
    local cd_ldflags="-X github.com/containerd/containerd/v2/version.Version=${CONTAINERD2_VERSION#v}"
    pinned_ok containerd $CONTAINERD2_VERSION "$CD2/bin" ||
        go_build_pinned github.com/containerd/containerd/v2 $CONTAINERD2_VERSION \
            containerd cmd/containerd "$CD2/bin" "$cd_ldflags"
    pinned_ok containerd-shim-runc-v2 $CONTAINERD2_VERSION "$CD2/bin" ||
        go_build_pinned github.com/containerd/containerd/v2 $CONTAINERD2_VERSION \
            containerd-shim-runc-v2 cmd/containerd-shim-runc-v2 "$CD2/bin" "$cd_ldflags"
    nerdctl_ok $NERDCTL2_VERSION "$CD2/bin" ||
        go_build_pinned github.com/containerd/nerdctl/v2 $NERDCTL2_VERSION \
            nerdctl cmd/nerdctl "$CD2/bin" "$(nerdctl_ldflags $NERDCTL2_VERSION)"
    mkdir -p "$CONF_DIR"
    # Its own socket, root and state beside Debian's containerd 1.6. CRI is
    # off: nerdctl does not use it, and its runtime plugin needs
    # CAP_SYS_RESOURCE, which sandboxes lack. NRI is off: its socket path is
    # shared by every containerd of the host.
    cat >"$CONF_DIR/containerd2.toml" <<EOF
version = 4
root = '$CD2_ROOT'
state = '${CD2_SOCK%/*}/state'
imports = []
disabled_plugins = ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.runtime',
  'io.containerd.cri.v1.images', 'io.containerd.podsandbox.controller.v1.podsandbox',
  'io.containerd.nri.v1.nri']

[plugins.'io.containerd.server.v1.grpc']
  address = '$CD2_SOCK'

[plugins.'io.containerd.server.v1.ttrpc']
  address = '$CD2_SOCK.ttrpc'
EOF
}

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
    # run(init=True): Podman's init is catatonit, Docker's docker-init (in
    # docker.io); nerdctl's is tini, and it needs tini-static (this package)
    # to start in a FROM scratch image.
    packages+=(tini)
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
    nerdctl_ok $NERDCTL_VERSION "$BIN" ||
        go_build_pinned github.com/containerd/nerdctl/v2 $NERDCTL_VERSION nerdctl cmd/nerdctl \
            "$BIN" "$(nerdctl_ldflags $NERDCTL_VERSION)"
    pinned_ok buildkitd $BUILDKIT_VERSION ||
        go_build_pinned github.com/moby/buildkit $BUILDKIT_VERSION buildkitd cmd/buildkitd
    pinned_ok buildctl $BUILDKIT_VERSION ||
        go_build_pinned github.com/moby/buildkit $BUILDKIT_VERSION buildctl cmd/buildctl
    install_containerd2
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

# A daemon killed without its stop leaves its socket behind. dockerd 20.10
# attaches to the system containerd whenever that socket exists, then waits
# on a dead one until it gives up: remove a socket nothing answers on.
drop_stale_socket() {
    local sock=$1; shift
    [[ -S $sock ]] || return 0
    "$@" >/dev/null 2>&1 && return 0
    log "removing stale socket $sock"
    rm -f "$sock" "$sock.ttrpc"
}

start() {
    drop_stale_socket /run/containerd/containerd.sock \
        ctr --address /run/containerd/containerd.sock version
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
    if ! ctr --address $CD2_SOCK version >/dev/null 2>&1; then
        mkdir -p "${CD2_SOCK%/*}"
        # PATH first: containerd finds its shim there before beside itself,
        # and Debian's 1.6 shim is in /usr/bin.
        start_daemon containerd2 env PATH="$CD2/bin:$PATH" \
            "$CD2/bin/containerd" --config "$CONF_DIR/containerd2.toml"
        wait_for containerd2 60 ctr --address $CD2_SOCK version
    fi
    # The one buildkitd (OCI worker) serves both: nerdctl loads what it
    # builds into the containerd it talks to.
    wait_for containerd2 60 "$CD2/bin/nerdctl" --address $CD2_SOCK info
}

stop() {
    local name pid
    for name in buildkitd containerd2 containerd dockerd; do
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
    case "${1:-}" in
    "")
        # The main nerdctl leg: the newest nerdctl on containerd 2.
        echo "export RUNTIMES_NERDCTL_ADDRESS=$CD2_SOCK"
        echo "export RUNTIMES_NERDCTL_BINARY=$CD2/bin/nerdctl"
        ;;
    containerd1.6)
        # The second leg: nerdctl $NERDCTL_VERSION on Debian's containerd 1.6.
        echo "export RUNTIMES_NERDCTL_ADDRESS=/run/containerd/containerd.sock"
        echo "export RUNTIMES_NERDCTL_BINARY=$BIN/nerdctl"
        ;;
    *)
        echo "unknown leg ${1}: the legs are the default one and containerd1.6" >&2
        exit 2
        ;;
    esac
}

case "${1:-}" in
install) install ;;
start) start ;;
up)
    install
    start
    ;;
stop) stop ;;
env) env_exports "${2:-}" ;;
# The Kubernetes cluster is a stage of its own: its script owns it.
kube-install | kube-start | kube-stop | kube-env)
    exec bash "$(dirname "${BASH_SOURCE[0]}")/kube-cluster.sh" "${1#kube-}"
    ;;
*)
    echo "usage: $0 install|start|up|stop|env [containerd1.6]|kube-install|kube-start|kube-stop|kube-env" >&2
    exit 2
    ;;
esac
