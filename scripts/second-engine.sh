#!/usr/bin/env bash
# A second, "remote" container engine on this machine, for the tests of
# remote endpoints (Docker over TLS and SSH, Podman over SSH, nerdctl through
# a command prefix). Everything runs inside the network namespace
# `runtimes-remote`, joined to the host by one veth pair with private
# addresses (host 10.231.0.1/30, namespace 10.231.0.2/30) and no other
# route: its traffic never leaves the machine, and the engines started by
# scripts/prepare-machine.sh are never touched.
#
#   scripts/second-engine.sh install   # openssh-server, certificates and keys (idempotent)
#   scripts/second-engine.sh start     # namespace, containerd, dockerd, podman service, sshd
#   scripts/second-engine.sh stop      # stop all of it and remove the namespace
#   scripts/second-engine.sh env       # the exports the tests read
#
# Inside the namespace:
# * containerd of its own (socket, root, state), CRI disabled: dockerd 20.10
#   would otherwise attach to the system containerd;
# * dockerd with its own --data-root/--exec-root/--pidfile/--config-file,
#   its own bridge inside the namespace (published ports answer on
#   10.231.0.2), --iptables=false (docker-proxy publishes the ports),
#   listening on its unix socket and on tcp://10.231.0.2:2376 with mutual
#   TLS from a throwaway CA;
# * `podman system service` with its own storage, on a unix socket;
# * sshd on 10.231.0.2:2222, key login for root only: one key may only run
#   `docker system dial-stdio` (Docker over SSH), another may only forward
#   to Unix sockets (Podman over SSH), a third is known to nobody.
#
# `ip netns exec` gives each command a fresh mount namespace with its own
# /sys (and so no cgroup mounts): all daemons start from one supervisor
# shell inside one `ip netns exec`, which mounts the cgroup hierarchies the
# host has, so that dockerd's and podman's mounts are seen by containerd,
# runc and conmon alike.
set -euo pipefail

NS=runtimes-remote
HOST_IF=rtremote0
NS_IF=rtremote1
HOST_ADDR=10.231.0.1
NS_ADDR=10.231.0.2
# The namespace's own bridges (dockerd's); never routed outside the namespace.
DOCKER_BIP=10.231.16.1/24
TLS_PORT=2376
SSH_PORT=2222
ROOT=/var/lib/runtimes-remote
RUN=/run/runtimes-remote
LOGS=/var/log/runtimes-remote
TLS=$ROOT/tls
SSHD=$ROOT/ssh
DOCKER_SOCK=$RUN/docker.sock
PODMAN_SOCK=$RUN/podman/podman.sock
CONTAINERD_SOCK=$RUN/containerd/containerd.sock

log() { printf '[second-engine] %s\n' "$*" >&2; }

# -- install -----------------------------------------------------------------

ensure_packages() {
    local packages=(openssh-server openssh-client openssl iproute2 curl docker.io containerd podman)
    local missing=()
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    # The package's own sshd (port 22, every interface) must not run: policy-rc.d
    # usually keeps it from starting; a machine with an init system may not.
    if [[ -f /run/sshd.pid ]] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then
        log "stopping the sshd the package started"
        kill -TERM "$(cat /run/sshd.pid)" || true
    fi
    if command -v update-rc.d >/dev/null && [[ -x /etc/init.d/ssh ]]; then
        update-rc.d ssh disable >/dev/null 2>&1 || true
    fi
}

openssl_quiet() { openssl "$@" 2>/dev/null; }

ec_key() { openssl_quiet genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1"; }

# sign NAME CA_PREFIX SUBJECT EXTENSIONS [openssl ca dates]: NAME-key.pem and NAME-cert.pem
sign() {
    local name=$1 ca=$2 subject=$3 ext=$4
    ec_key "$TLS/$name-key.pem"
    openssl_quiet req -new -key "$TLS/$name-key.pem" -subj "$subject" -out "$TLS/$name.csr"
    printf '%s\n' "$ext" >"$TLS/$name.ext"
    openssl_quiet x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca.pem" -CAkey "$TLS/$ca-key.pem" \
        -set_serial "0x$(openssl rand -hex 8)" -days 3650 -extfile "$TLS/$name.ext" \
        -out "$TLS/$name-cert.pem"
    rm -f "$TLS/$name.csr" "$TLS/$name.ext"
}

make_ca() {
    local name=$1 subject=$2
    ec_key "$TLS/$name-key.pem"
    openssl_quiet req -x509 -new -key "$TLS/$name-key.pem" -subj "$subject" -days 3650 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$TLS/$name.pem"
}

make_expired_client() {
    # `openssl x509 -req` cannot back-date; `openssl ca` can, with a scratch database.
    local dir=$TLS/expired-ca.d
    mkdir -p "$dir"
    : >"$dir/index.txt"
    cat >"$dir/ca.cnf" <<EOF
[ca]
default_ca = expired
[expired]
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
EOF
    openssl rand -hex 8 >"$dir/serial"
    ec_key "$TLS/expired-client-key.pem"
    openssl_quiet req -new -key "$TLS/expired-client-key.pem" -subj "/CN=runtimes-remote expired client" \
        -out "$dir/req.csr"
    openssl_quiet ca -batch -config "$dir/ca.cnf" -extensions client -cert "$TLS/ca.pem" \
        -keyfile "$TLS/ca-key.pem" -startdate 20200101000000Z -enddate 20200102000000Z \
        -notext -in "$dir/req.csr" -out "$TLS/expired-client-cert.pem"
    rm -rf "$dir"
}

make_tls() {
    [[ -s $TLS/expired-client-cert.pem ]] && return 0
    log "making a throwaway CA and certificates in $TLS"
    rm -rf "$TLS"
    mkdir -p "$TLS"
    chmod 700 "$TLS"
    make_ca ca "/CN=runtimes-remote CA"
    sign server ca "/CN=$NS_ADDR" "subjectAltName=IP:$NS_ADDR
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth"
    local client="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
    sign client ca "/CN=runtimes-remote client" "$client"
    # For the tests of failures: a CA nobody trusts, a client it signed,
    # and a client certificate of the right CA that expired in 2020.
    make_ca other-ca "/CN=runtimes-remote other CA"
    sign other-client other-ca "/CN=runtimes-remote stranger" "$client"
    make_expired_client
    # The layout DOCKER_CERT_PATH expects.
    mkdir -p "$TLS/client"
    cp "$TLS/ca.pem" "$TLS/client/ca.pem"
    cp "$TLS/client-cert.pem" "$TLS/client/cert.pem"
    cp "$TLS/client-key.pem" "$TLS/client/key.pem"
    chmod 600 "$TLS"/*-key.pem "$TLS/client/key.pem"
}

make_ssh() {
    [[ -s $SSHD/known_hosts ]] && return 0
    log "making ssh keys and sshd configuration in $SSHD"
    rm -rf "$SSHD"
    mkdir -p "$SSHD"
    chmod 700 "$SSHD"
    local k
    for k in host docker podman wrong; do
        ssh-keygen -q -t ed25519 -N '' -C "runtimes-remote-$k" -f "$SSHD/${k}_ed25519"
    done
    # Forced commands: whatever the client asks, the docker key gets a
    # dial-stdio to this engine and nothing else; the podman key gets no
    # shell, only forwarding (to the Podman socket, as `podman --remote`
    # does: sshd cannot limit a key to one socket path, and it ties
    # forwarding to Unix sockets to AllowTcpForwarding).
    {
        printf 'restrict,command="DOCKER_HOST=unix://%s exec /usr/bin/docker system dial-stdio" %s\n' \
            "$DOCKER_SOCK" "$(cat "$SSHD/docker_ed25519.pub")"
        printf 'restrict,port-forwarding,command="/bin/false" %s\n' "$(cat "$SSHD/podman_ed25519.pub")"
    } >"$SSHD/authorized_keys"
    chmod 600 "$SSHD/authorized_keys"
    printf '[%s]:%s %s\n' "$NS_ADDR" "$SSH_PORT" "$(cut -d' ' -f1,2 "$SSHD/host_ed25519.pub")" \
        >"$SSHD/known_hosts"
    cat >"$SSHD/sshd_config" <<EOF
ListenAddress $NS_ADDR:$SSH_PORT
HostKey $SSHD/host_ed25519
PidFile $RUN/sshd.pid
AuthorizedKeysFile $SSHD/authorized_keys
AllowUsers root
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowTcpForwarding local
AllowStreamLocalForwarding local
AllowAgentForwarding no
X11Forwarding no
PermitTunnel no
PermitUserEnvironment no
StrictModes yes
LogLevel VERBOSE
EOF
}

write_configs() {
    mkdir -p "$ROOT" "$LOGS"
    cat >"$ROOT/containerd.toml" <<EOF
version = 2
root = "$ROOT/containerd"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ROOT/containerd-opt"
EOF
    # Never /etc/docker/daemon.json: that one is the host engine's.
    cat >"$ROOT/daemon.json" <<EOF
{
  "insecure-registries": ["$HOST_ADDR/32"]
}
EOF
    # Podman: storage, network and temporary state of its own; the ulimits
    # runc needs on this kind of machine (see prepare-machine.sh).
    mkdir -p "$ROOT/podman/networks"
    cat >"$ROOT/podman/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_config_dir = "$ROOT/podman/networks"
[engine]
tmp_dir = "$RUN/podman/tmp"
events_logger = "file"
events_logfile_path = "$RUN/podman/events.log"
EOF
    cat >"$ROOT/podman/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$ROOT/podman/storage"
runroot = "$RUN/podman/run"
EOF
}

install() {
    ensure_packages
    make_tls
    make_ssh
    write_configs
}

# -- start -------------------------------------------------------------------

netns_up() {
    if ! ip netns list | grep -qx "$NS\( (id: [0-9]*)\)\?"; then
        log "creating network namespace $NS"
        ip netns add "$NS"
    fi
    if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
        ip link add "$HOST_IF" type veth peer name "$NS_IF"
        ip link set "$NS_IF" netns "$NS"
        ip addr add "$HOST_ADDR/30" dev "$HOST_IF"
        ip link set "$HOST_IF" up
        ip netns exec "$NS" ip addr add "$NS_ADDR/30" dev "$NS_IF"
        ip netns exec "$NS" ip link set "$NS_IF" up
    fi
    ip netns exec "$NS" ip link set lo up
}

# Runs inside `ip netns exec`: mount the cgroups, start every daemon, wait.
inside() {
    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
    local line point fstype opts
    # The host's hierarchies, as the host mounted them (v1 controllers and
    # the v2 "unified" one on a hybrid machine, or just cgroup2).
    while read -r line; do
        point=$(cut -d' ' -f5 <<<"$line")
        fstype=$(sed 's/.* - //' <<<"$line" | cut -d' ' -f1)
        opts=$(sed 's/.* - //' <<<"$line" | cut -d' ' -f3)
        [[ $fstype == cgroup || $fstype == cgroup2 ]] || continue
        [[ $point == /sys/fs/cgroup ]] && { umount /sys/fs/cgroup; mount -t cgroup2 cgroup2 /sys/fs/cgroup; continue; }
        mkdir -p "$point"
        if [[ $fstype == cgroup2 ]]; then
            mount -t cgroup2 cgroup2 "$point"
        else
            mount -t cgroup -o "${opts#rw,}" cgroup "$point"
        fi
    done <"$RUN/host-mountinfo"

    setsid containerd --config "$ROOT/containerd.toml" >"$LOGS/containerd.log" 2>&1 </dev/null &
    echo $! >"$RUN/containerd.pid"
    for ((i = 0; i < 120; i++)); do [[ -S $CONTAINERD_SOCK ]] && break; sleep 0.25; done

    setsid dockerd --config-file "$ROOT/daemon.json" \
        --data-root "$ROOT/docker" --exec-root "$RUN/docker" --pidfile "$RUN/dockerd.pid" \
        --containerd "$CONTAINERD_SOCK" \
        --host "unix://$DOCKER_SOCK" --host "tcp://$NS_ADDR:$TLS_PORT" \
        --tlsverify --tlscacert "$TLS/ca.pem" --tlscert "$TLS/server-cert.pem" \
        --tlskey "$TLS/server-key.pem" \
        --bip "$DOCKER_BIP" --iptables=false --ip-masq=false \
        >"$LOGS/dockerd.log" 2>&1 </dev/null &

    mkdir -p "$RUN/podman"
    CONTAINERS_CONF=$ROOT/podman/containers.conf CONTAINERS_STORAGE_CONF=$ROOT/podman/storage.conf \
        setsid podman system service --time=0 "unix://$PODMAN_SOCK" \
        >"$LOGS/podman.log" 2>&1 </dev/null &
    echo $! >"$RUN/podman.pid"

    mkdir -p /run/sshd
    setsid /usr/sbin/sshd -D -e -f "$SSHD/sshd_config" >"$LOGS/sshd.log" 2>&1 </dev/null &

    wait
}

answers_unix() { curl -sf --max-time 2 --unix-socket "$1" "http://d$2" >/dev/null 2>&1; }

wait_for() {
    local what=$1 tries=$2
    shift 2
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    log "$what did not come up; its log follows"
    tail -n 30 "$LOGS/$what.log" >&2 || true
    return 1
}

tls_answers() {
    curl -sf --max-time 2 --cacert "$TLS/ca.pem" --cert "$TLS/client-cert.pem" \
        --key "$TLS/client-key.pem" "https://$NS_ADDR:$TLS_PORT/_ping"
}

ssh_answers() {
    # The forced command ignores what is asked and dials the engine.
    printf 'GET /_ping HTTP/1.0\r\n\r\n' | timeout 10 ssh -F none -i "$SSHD/docker_ed25519" \
        -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile="$SSHD/known_hosts" \
        -p "$SSH_PORT" "root@$NS_ADDR" true | grep -q OK
}

supervisor_alive() { [[ -f $RUN/supervisor.pid ]] && kill -0 "$(cat "$RUN/supervisor.pid")" 2>/dev/null; }

start() {
    [[ -s $SSHD/known_hosts && -s $TLS/client-cert.pem && -f $ROOT/containerd.toml ]] ||
        { log "run '$0 install' first"; exit 1; }
    netns_up
    if ! supervisor_alive; then
        mkdir -p "$RUN" "$LOGS"
        cp /proc/self/mountinfo "$RUN/host-mountinfo"
        log "starting containerd, dockerd, podman and sshd in $NS"
        setsid ip netns exec "$NS" "$0" _inside >"$LOGS/supervisor.log" 2>&1 </dev/null &
        echo $! >"$RUN/supervisor.pid"
    fi
    wait_for containerd 120 test -S "$CONTAINERD_SOCK"
    wait_for dockerd 240 answers_unix "$DOCKER_SOCK" /_ping
    wait_for dockerd 40 tls_answers
    wait_for podman 120 answers_unix "$PODMAN_SOCK" /v4.0.0/libpod/_ping
    wait_for sshd 40 ssh_answers
}

# -- stop --------------------------------------------------------------------

stop_pid() {
    local name=$1 pid=$2 grace=${3:-60}
    kill -0 "$pid" 2>/dev/null || return 0
    log "stopping $name"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 4; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null || true
}

stop() {
    local name f
    for name in sshd podman dockerd containerd; do
        f=$RUN/$name.pid
        [[ -f $f ]] && stop_pid "$name" "$(cat "$f")" 30
    done
    # What is left in the namespace is ours: containers, conmon, shims.
    if ip netns list | grep -q "^$NS\b"; then
        for pid in $(ip netns pids "$NS"); do kill -KILL "$pid" 2>/dev/null || true; done
        sleep 0.5
        ip netns del "$NS" 2>/dev/null || true
    fi
    [[ -f $RUN/supervisor.pid ]] && stop_pid supervisor "$(cat "$RUN/supervisor.pid")" 10
    ip link del "$HOST_IF" 2>/dev/null || true
    # Runtime state goes, as after a reboot; images and volumes stay in $ROOT.
    rm -rf "$RUN"
}

env_exports() {
    local ssh_url="ssh://root@$NS_ADDR:$SSH_PORT"
    # The nerdctl of prepare-machine.sh's containerd 1.6 leg: this
    # namespace's containerd is Debian's 1.6 too.
    local NERDCTL=/usr/local/bin/nerdctl
    cat <<EOF
export RUNTIMES_REMOTE_DOCKER_TLS_HOST=tcp://$NS_ADDR:$TLS_PORT
export RUNTIMES_REMOTE_DOCKER_TLS_TLS_VERIFY=1
export RUNTIMES_REMOTE_DOCKER_TLS_TLS_CA=$TLS/ca.pem
export RUNTIMES_REMOTE_DOCKER_TLS_TLS_CERT=$TLS/client-cert.pem
export RUNTIMES_REMOTE_DOCKER_TLS_TLS_KEY=$TLS/client-key.pem
export RUNTIMES_REMOTE_DOCKER_SSH_HOST=$ssh_url
export RUNTIMES_REMOTE_DOCKER_SSH_SSH_IDENTITY=$SSHD/docker_ed25519
export RUNTIMES_REMOTE_DOCKER_SSH_SSH_KNOWN_HOSTS=$SSHD/known_hosts
export RUNTIMES_REMOTE_PODMAN_SSH_HOST=$ssh_url$PODMAN_SOCK
export RUNTIMES_REMOTE_PODMAN_SSH_SSH_IDENTITY=$SSHD/podman_ed25519
export RUNTIMES_REMOTE_PODMAN_SSH_SSH_KNOWN_HOSTS=$SSHD/known_hosts
export RUNTIMES_REMOTE_NERDCTL_NETNS_COMMAND_PREFIX="ip netns exec $NS"
export RUNTIMES_REMOTE_NERDCTL_NETNS_ADDRESS=$CONTAINERD_SOCK
export RUNTIMES_REMOTE_NERDCTL_NETNS_ENGINE_HOST=$NS_ADDR
export RUNTIMES_REMOTE_NERDCTL_NETNS_BINARY=$NERDCTL
export RUNTIMES_REMOTE_TLS_DIR=$TLS
export RUNTIMES_REMOTE_SSH_DIR=$SSHD
EOF
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
env) env_exports ;;
_inside) inside ;;
*)
    echo "usage: $0 install|start|stop|env" >&2
    exit 2
    ;;
esac
