#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the kubernetes
# adapter's tests: etcd, kube-apiserver, kube-controller-manager and
# kube-scheduler on 127.0.0.1, a kubelet over a private containerd 1.6, and
# CoreDNS on the node IP as the pods' cluster DNS.
#
#   scripts/kube-cluster.sh install          # build and cache the binaries (idempotent)
#   scripts/kube-cluster.sh start            # start the cluster unless it runs (idempotent)
#   scripts/kube-cluster.sh stop             # stop it and remove what start made
#   scripts/kube-cluster.sh env              # print the exports the tests need
#   scripts/kube-cluster.sh status           # say what runs; exit 1 unless all of it does
#   scripts/kube-cluster.sh import REF|TAR...  # copy images into the node's containerd
#
# Nothing is pulled: the pause image is built FROM scratch out of the
# Kubernetes module's own pause.c, and test images are imported from the
# docker engine (or a `docker save` tar) with `import`.
#
# DNS without kube-proxy: Service cluster IPs are never routed, so pods
# reach each other through headless Services (clusterIP: None), whose names
# CoreDNS answers with the pods' own IPs. CoreDNS is a host process (the API
# server listens on the host's 127.0.0.1 only, out of the node's network
# namespace's reach) bound to the node IP, which pods reach over the veth.
#
# Layout. The kubelet and the node's containerd share one private mount
# namespace: the kubelet's volume mounts must be seen by runc, and in there
# stand-in files cover the /proc/sys values the kubelet insists on, so no host
# sysctl changes. containerd (and so the pods' bridge, veths and iptables
# rules) lives in its own network namespace, reached through a veth whose
# host end is the node IP. The kubelet stays in the host network namespace
# (so it reaches the API server on 127.0.0.1) but runs without iptables on
# its PATH, so it adds no rule to the host's chains.
set -euo pipefail

KUBE_VERSION=v1.34.4
KUBE_STAGING_VERSION=v0.34.4   # the published k8s.io/* modules of that release
ETCD_VERSION=v3.7.3
PAUSE_VERSION=3.10.1           # build/pause/Makefile's TAG in $KUBE_VERSION
PAUSE_IMAGE=registry.k8s.io/pause:$PAUSE_VERSION
COREDNS_VERSION=v1.12.1        # kubeadm's pin (CoreDNSVersion) in $KUBE_VERSION
# The CoreDNS plugins built in (names from its plugin.cfg, whose order is the
# order they run in): only what answers the cluster's names. No forward, so
# no upstream resolver can stall a pod's lookups.
COREDNS_PLUGINS=(bind ready errors log kubernetes)

KUBE_LIB=/usr/local/lib/runtimes-kube
KBIN=$KUBE_LIB/$KUBE_VERSION/bin
SRC=/var/cache/runtimes-kube/src   # writable copies of the modules
STATE=/run/runtimes-kube           # pid files, sockets, kubeconfigs, PKI
DATA=/var/lib/runtimes-kube        # etcd, containerd root, kubelet dir
LOGS=/var/log/runtimes-kube
CONTAINERD_SOCK=$STATE/containerd.sock

# Addresses: none collides with docker's, podman's or nerdctl's networks
# (checked again at start against `ip route`).
NETNS=runtimes-kube-node
VETH_HOST=runtimes-kube0
HOST_IP=10.243.0.1    # the node IP: host end of the veth
NODE_NET_IP=10.243.0.2  # containerd's end, in $NETNS
VETH_CIDR=10.243.0.0/30
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.96.0.0/16  # never routed: there is no kube-proxy
SERVICE_IP=10.96.0.1       # the `kubernetes` Service's, first of the range
DNS_IP=$HOST_IP            # CoreDNS, port 53; the kubelet's clusterDNS
DNS_READY_PORT=18181       # CoreDNS's /ready, on 127.0.0.1
API_PORT=16443
ETCD_PORT=12379
ETCD_PEER_PORT=12380
NODE_NAME=runtimes-kube-node
CGROUP_ROOT=runtimes-kube

log() { printf '[kube-cluster] %s\n' "$*" >&2; }

# pinned_ok BINARY VERSION: built by this script for that version.
pinned_ok() { [[ -x $KBIN/$1 && "$(cat "$KBIN/.$1.version" 2>/dev/null)" == "$2" ]]; }

# writable_module MODULE VERSION: a writable copy of a downloaded module, whose
# go.mod can be edited (the module cache is read-only).
writable_module() {
    local module=$1 version=$2 dir tree=$SRC/${1//\//_}@$2
    if [[ ! -f $tree/.copied ]]; then
        dir=$(GOSUMDB=off GOFLAGS=-mod=mod GOTOOLCHAIN=local go mod download -json "$module@$version" |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
        rm -rf "$tree"
        mkdir -p "$SRC"
        cp -r "$dir" "$tree"
        chmod -R u+w "$tree"
        touch "$tree/.copied"
    fi
    printf '%s\n' "$tree"
}

go_build() {
    # nice: the machine's two cores are shared with other sessions.
    CGO_ENABLED=0 GOSUMDB=off GOTOOLCHAIN=local GOFLAGS="-mod=mod -buildvcs=false" \
        nice -n 10 go build -trimpath "$@"
}

install_kubernetes() {
    local bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl) b missing=0
    for b in "${bins[@]}"; do pinned_ok "$b" $KUBE_VERSION || missing=1; done
    ((missing)) || return 0
    log "building Kubernetes $KUBE_VERSION (${bins[*]})"
    local tree
    tree=$(writable_module k8s.io/kubernetes $KUBE_VERSION)
    # The module zip leaves out staging/ (each is a module of its own), which
    # go.mod and go.work point at: use the published modules of the release.
    if [[ -f $tree/go.work ]] || grep -q '=> ./staging/' "$tree/go.mod"; then
        rm -f "$tree/go.work" "$tree/go.work.sum"
        local edits=() p
        for p in $(sed -n 's#^\s*\(k8s.io/[^ ]*\) => ./staging/.*#\1#p' "$tree/go.mod"); do
            if [[ $p == k8s.io/sample-cli-plugin ]]; then
                # Not served by the module proxy, and nothing built here needs it.
                edits+=("-dropreplace=$p" "-droprequire=$p")
            else
                edits+=("-dropreplace=$p" "-require=$p@$KUBE_STAGING_VERSION")
            fi
        done
        (cd "$tree" && go mod edit "${edits[@]}")
    fi
    local v=${KUBE_VERSION#v} pkg=k8s.io/component-base/version
    local ldflags="-s -w -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=${v%%.*}"
    v=${v#*.}
    ldflags+=" -X $pkg.gitMinor=${v%%.*} -X $pkg.gitTreeState=clean"
    mkdir -p "$KBIN"
    local out
    out=$(mktemp -d "$KBIN/.build.XXXXXX")
    local pkgs=()
    for b in "${bins[@]}"; do pkgs+=("./cmd/$b"); done
    (cd "$tree" && go_build -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
    for b in "${bins[@]}"; do
        mv "$out/$b" "$KBIN/$b"
        printf '%s\n' $KUBE_VERSION >"$KBIN/.$b.version"
    done
    rmdir "$out"
}

install_etcd() {
    pinned_ok etcd $ETCD_VERSION && return 0
    log "building etcd $ETCD_VERSION"
    local tree
    tree=$(writable_module go.etcd.io/etcd/server/v3 $ETCD_VERSION)
    # Its go.mod points at sibling modules of the repository (../api, ...),
    # absent from the zip: the published ones of the same version stand in.
    # Its toolchain line asks for a newer patch release than the machine's Go.
    local edits=(-toolchain=none) p
    for p in $(sed -n 's#^\s*\(go.etcd.io/[^ ]*\) => \.\./.*#\1#p' "$tree/go.mod"); do
        edits+=("-dropreplace=$p" "-require=$p@$ETCD_VERSION")
    done
    (cd "$tree" && go mod edit "${edits[@]}")
    mkdir -p "$KBIN"
    (cd "$tree" && go_build -ldflags "-s -w" -o "$KBIN/etcd.tmp" .)
    mv "$KBIN/etcd.tmp" "$KBIN/etcd"
    printf '%s\n' $ETCD_VERSION >"$KBIN/.etcd.version"
}

install_pause() {
    # The sandbox image containerd's CRI starts every pod with, FROM scratch:
    # one static binary, saved in `docker save` layout for `ctr images import`.
    [[ -f $KBIN/pause.tar && "$(cat "$KBIN/.pause.version" 2>/dev/null)" == "$PAUSE_VERSION" ]] && return 0
    log "building the pause image $PAUSE_IMAGE"
    local tree work
    tree=$(writable_module k8s.io/kubernetes $KUBE_VERSION)
    work=$(mktemp -d)
    mkdir -p "$work/rootfs"
    gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION" \
        -o "$work/rootfs/pause" "$tree/build/pause/linux/pause.c"
    strip "$work/rootfs/pause"
    tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
    local diff_id
    diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
    cat >"$work/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]}}
JSON
    cat >"$work/manifest.json" <<JSON
[{"Config":"config.json","RepoTags":["$PAUSE_IMAGE"],"Layers":["layer.tar"]}]
JSON
    mkdir -p "$KBIN"
    tar -C "$work" -cf "$KBIN/pause.tar.tmp" manifest.json config.json layer.tar
    mv "$KBIN/pause.tar.tmp" "$KBIN/pause.tar"
    printf '%s\n' "$PAUSE_VERSION" >"$KBIN/.pause.version"
    rm -rf "$work"
}

install_coredns() {
    # Cached under the version and the plugin list: changing either rebuilds.
    local stamp="$COREDNS_VERSION ${COREDNS_PLUGINS[*]}"
    pinned_ok coredns "$stamp" && return 0
    log "building CoreDNS $COREDNS_VERSION (plugins: ${COREDNS_PLUGINS[*]})"
    local tree
    tree=$(writable_module github.com/coredns/coredns $COREDNS_VERSION)
    # Its own way to choose plugins: trim plugin.cfg, regenerate the import
    # list and the directive order (`go generate`'s first step). Leaving out
    # the cloud backends (route53, azure, clouddns), etcd, dnstap, trace...
    # spares most of the build.
    [[ -f $tree/plugin.cfg.orig ]] || cp "$tree/plugin.cfg" "$tree/plugin.cfg.orig"
    python3 - "$tree/plugin.cfg.orig" "${COREDNS_PLUGINS[@]}" >"$tree/plugin.cfg" <<'PY'
import sys
want = set(sys.argv[2:])
lines = [line for line in open(sys.argv[1]) if line.split(":")[0] in want]
got = {line.split(":")[0] for line in lines}
if got != want:
    sys.exit(f"not in plugin.cfg: {sorted(want - got)}")
sys.stdout.writelines(lines)
PY
    (cd "$tree" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go run directives_generate.go)
    mkdir -p "$KBIN"
    (cd "$tree" && go_build -ldflags "-s -w" -o "$KBIN/coredns.tmp" .)
    mv "$KBIN/coredns.tmp" "$KBIN/coredns"
    printf '%s\n' "$stamp" >"$KBIN/.coredns.version"
}

install() {
    local packages=(containerd runc containernetworking-plugins iproute2 util-linux openssl gcc libc6-dev curl)
    local missing=() p
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    command -v go >/dev/null || { log "Go is required to build Kubernetes, etcd and CoreDNS"; exit 1; }
    install_etcd
    install_kubernetes
    install_pause
    install_coredns
}


# ---------------------------------------------------------------- running

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

running() { [[ -f $STATE/$1.pid ]] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

kubectl_admin() { timeout 30 "$KBIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }

api_ready() {
    curl -sf --max-time 5 --cacert "$STATE/pki/ca.crt" \
        -H "Authorization: Bearer $(cat "$STATE/admin.token")" \
        "https://127.0.0.1:$API_PORT/readyz" >/dev/null
}

node_ready() {
    [[ "$(kubectl_admin get node $NODE_NAME \
        -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}

default_sa_ready() { kubectl_admin -n default get serviceaccount default; }

DAEMONS=(etcd kube-apiserver kube-controller-manager kube-scheduler coredns containerd kubelet)

healthy() {
    local d
    for d in "${DAEMONS[@]}"; do running "$d" || return 1; done
    api_ready && node_ready
}

# check_free CIDR: no route of the host's (but ours) overlaps CIDR.
check_free() {
    ip -o route show | awk -v own=$VETH_HOST '$0 !~ "dev " own "( |$)" {print $1}' |
        python3 -c '
import ipaddress, sys
want = ipaddress.ip_network(sys.argv[1])
for line in sys.stdin:
    dst = line.strip()
    if dst == "default" or "/" not in dst and not dst[0].isdigit():
        continue
    net = ipaddress.ip_network(dst if "/" in dst else dst + "/32", strict=False)
    if net.version == 4 and net.overlaps(want):
        sys.exit(f"{want} overlaps the host route {net}: pick other addresses in kube-cluster.sh")
' "$1"
}

make_pki() {
    local pki=$STATE/pki
    mkdir -p "$pki"
    chmod 700 "$pki"
    local days=3650
    openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$pki/ca.key" -subj /CN=runtimes-kube-ca -days $days \
        -out "$pki/ca.crt" 2>/dev/null
    # leaf NAME SUBJECT EXTENSIONS
    leaf() {
        openssl ecparam -name prime256v1 -genkey -noout -out "$pki/$1.key" 2>/dev/null
        openssl req -new -key "$pki/$1.key" -subj "$2" 2>/dev/null |
            openssl x509 -req -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
                -days $days -out "$pki/$1.crt" -extfile <(printf '%s\n' "$3") 2>/dev/null
    }
    leaf apiserver /CN=kube-apiserver "basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:$HOST_IP,IP:$SERVICE_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    # The API server's identity towards the kubelet (logs, exec, port-forward).
    leaf apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    openssl ecparam -name prime256v1 -genkey -noout -out "$pki/sa.key" 2>/dev/null
    openssl ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

make_tokens() {
    # Static tokens: an admin, a user with no RBAC rights (for the adapter's
    # "forbidden" test), and one identity per component, each with the
    # bootstrap RBAC roles (or Node authorizer rules) made for it.
    local csv=$STATE/tokens.csv name user groups token
    : >"$csv"
    chmod 600 "$csv"
    while read -r name user groups; do
        token=$(openssl rand -hex 24)
        printf '%s\n' "$token" >"$STATE/$name.token"
        chmod 600 "$STATE/$name.token"
        if [[ $groups == - ]]; then
            printf '%s,%s,%s\n' "$token" "$user" "$user" >>"$csv"
        else
            printf '%s,%s,%s,"%s"\n' "$token" "$user" "$user" "$groups" >>"$csv"
        fi
        kubeconfig "$name" "$user" "$token"
    done <<EOF
admin runtimes-kube-admin system:masters
limited runtimes-kube-limited -
kubelet system:node:$NODE_NAME system:nodes
controller-manager system:kube-controller-manager -
scheduler system:kube-scheduler -
coredns runtimes-kube-coredns -
EOF
}

# kubeconfig NAME USER TOKEN: $STATE/NAME.kubeconfig, CA embedded.
kubeconfig() {
    local file=$STATE/$1.kubeconfig
    (
        umask 077
        cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: runtimes-kube
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority-data: $(base64 -w0 "$STATE/pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: runtimes-kube-$1
  context:
    cluster: runtimes-kube
    user: $2
    namespace: default
current-context: runtimes-kube-$1
EOF
    )
}

write_configs() {
    local conf=$STATE/conf
    mkdir -p "$conf/cni" "$DATA/cni-ipam"
    # The pods' bridge lives in $NETNS; its IPAM state in $DATA; no masquerade
    # (the pods talk to this machine only).
    cat >"$conf/cni/10-runtimes-kube.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "runtimes-kube",
  "plugins": [
    {"type": "bridge", "bridge": "rtkube-br0", "isGateway": true, "ipMasq": false,
     "hairpinMode": true,
     "ipam": {"type": "host-local", "dataDir": "$DATA/cni-ipam",
              "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
    cat >"$conf/containerd.toml" <<EOF
version = 2
root = "$DATA/containerd"
state = "$STATE/containerd"
# No CAP_SYS_RESOURCE in this sandbox: never ask for a lower OOM score.
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"

[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  # The kubelet, in the host's network namespace, reaches the streaming
  # server (exec, attach, port-forward) over the veth.
  stream_server_address = "$NODE_NET_IP"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$STATE/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$conf/cni"
EOF
    cat >"$conf/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $HOST_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP_ROOT
failCgroupV1: false
failSwapOn: false
# Checks, never writes, the kernel tunables (stand-ins in the private mount
# namespace hold the values it wants).
protectKernelDefaults: true
# Imported test images are never collected, and a full disk elsewhere on the
# machine does not evict the tests' pods.
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
clusterDomain: cluster.local
# Pods of dnsPolicy ClusterFirst (the default) get CoreDNS in resolv.conf,
# with the search list <namespace>.svc.cluster.local svc.cluster.local
# cluster.local: a Service resolves by its bare name within its namespace.
clusterDNS: [$DNS_IP]
maxPods: 110
serializeImagePulls: false
EOF
    # Only the cluster's zones: any other name is REFUSED at once (the pods
    # reach nothing beyond this machine, and no upstream can stall a lookup).
    # No cache: a pod's name resolves as soon as its EndpointSlice says so,
    # and no negative answer outlives a pod's start. Add `log` to the block
    # to log every query.
    cat >"$conf/Corefile" <<EOF
cluster.local in-addr.arpa ip6.arpa {
    bind $DNS_IP
    errors
    ready 127.0.0.1:$DNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $STATE/coredns.kubeconfig
        ttl 5
    }
}
EOF
}

# setup_netns: $NETNS with a veth to the host; pods' addresses routed to it.
setup_netns() {
    ip netns add $NETNS
    ip link add $VETH_HOST type veth peer name eth0 netns $NETNS
    ip addr add $HOST_IP/30 dev $VETH_HOST
    ip link set $VETH_HOST up
    ip -n $NETNS link set lo up
    ip -n $NETNS addr add $NODE_NET_IP/30 dev eth0
    ip -n $NETNS link set eth0 up
    ip -n $NETNS route add default via $HOST_IP
    ip route add $POD_CIDR via $NODE_NET_IP dev $VETH_HOST
    nsenter --net=/run/netns/$NETNS sysctl -qw net.ipv4.ip_forward=1
}

# mkdir_tracked DIR: create a mount point the host lacks, and remember to
# remove it at stop (the list is on disk: /run may not outlive a crash).
mkdir_tracked() {
    [[ -d $1 ]] && return 0
    mkdir -p "$1"
    printf '%s\n' "$1" >>"$DATA/created-dirs"
}

setup_mountns() {
    # A persistent mount namespace (bind-mounted handle) for containerd and
    # the kubelet. Slave propagation: the host's mounts reach it, none of
    # its own (volumes, overlays, stand-ins) reach the host.
    mkdir -p "$STATE/ns"
    mount --bind "$STATE/ns" "$STATE/ns"
    mount --make-private "$STATE/ns"
    touch "$STATE/ns/mnt"
    unshare --mount="$STATE/ns/mnt" --propagation slave true
    local sys=$STATE/sysctl
    mkdir -p "$sys" "$DATA/kubelet" "$DATA/log/pods" "$DATA/log/containers" "$DATA/cni" "$STATE/run-containerd" "$STATE/run-netns"
    printf '1\n' >"$sys/vm.overcommit_memory"
    printf '0\n' >"$sys/vm.panic_on_oom"
    printf '10\n' >"$sys/kernel.panic"
    printf '1\n' >"$sys/kernel.panic_on_oops"
    printf '1000000\n' >"$sys/kernel.keys.root_maxkeys"
    printf '25000000\n' >"$sys/kernel.keys.root_maxbytes"
    mkdir_tracked /var/lib/kubelet
    mkdir_tracked /var/log/pods
    mkdir_tracked /var/log/containers
    mkdir_tracked /var/lib/cni
    nsenter --mount="$STATE/ns/mnt" bash -euc '
        sys=$1 data=$2 state=$3
        for f in "$sys"/*; do
            mount --bind "$f" "/proc/sys/$(basename "$f" | tr . /)"
        done
        # Paths the kubelet, containerd 1.6 (shim sockets under
        # /run/containerd/s) and CNI (/var/lib/cni, /run/netns) hard-code:
        # private copies, so the host and its engines never see them.
        mount --bind "$data/kubelet" /var/lib/kubelet
        mount --make-rshared /var/lib/kubelet
        mount --bind "$data/log/pods" /var/log/pods
        mount --bind "$data/log/containers" /var/log/containers
        mount --bind "$data/cni" /var/lib/cni
        mount --bind "$state/run-containerd" /run/containerd
        mount -t tmpfs -o mode=755 runtimes-kube-netns /run/netns
    ' _ "$sys" "$DATA" "$STATE"
}

setup_cgroups() {
    # cgroupRoot must exist in every v1 hierarchy; a new cpuset is empty
    # until given its parent's CPUs and memory nodes.
    local h
    for h in /sys/fs/cgroup/*/; do
        mountpoint -q "$h" || continue
        mkdir -p "$h$CGROUP_ROOT"
        if [[ -f ${h}cpuset.cpus ]]; then
            cat "${h}cpuset.cpus" >"$h$CGROUP_ROOT/cpuset.cpus"
            cat "${h}cpuset.mems" >"$h$CGROUP_ROOT/cpuset.mems"
        fi
    done
}

start() {
    if healthy; then
        log "already running"
        return 0
    fi
    # Whatever a killed or half-done run left (pid files, sockets, netns,
    # mounts) goes first: a start always begins from nothing.
    stop quiet
    for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl coredns; do
        [[ -x $KBIN/$b ]] || { log "$KBIN/$b is missing: run '$0 install' first"; exit 1; }
    done
    check_free $VETH_CIDR
    check_free $POD_CIDR
    mkdir -p "$STATE" "$DATA" "$LOGS"
    chmod 700 "$STATE"
    make_pki
    make_tokens
    write_configs
    setup_netns
    setup_mountns
    setup_cgroups

    start_daemon etcd "$KBIN/etcd" --name runtimes-kube --data-dir "$DATA/etcd" \
        --listen-client-urls http://127.0.0.1:$ETCD_PORT --advertise-client-urls http://127.0.0.1:$ETCD_PORT \
        --listen-peer-urls http://127.0.0.1:$ETCD_PEER_PORT \
        --initial-advertise-peer-urls http://127.0.0.1:$ETCD_PEER_PORT \
        --initial-cluster runtimes-kube=http://127.0.0.1:$ETCD_PEER_PORT \
        --log-level warn --unsafe-no-fsync
    wait_for etcd 60 curl -sf --max-time 2 http://127.0.0.1:$ETCD_PORT/health

    local pki=$STATE/pki
    start_daemon kube-apiserver "$KBIN/kube-apiserver" \
        --bind-address=127.0.0.1 --secure-port=$API_PORT --advertise-address=$HOST_IP \
        --etcd-servers=http://127.0.0.1:$ETCD_PORT \
        --cert-dir="$STATE/apiserver-certs" \
        --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
        --client-ca-file="$pki/ca.crt" --token-auth-file="$STATE/tokens.csv" \
        --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
        --service-account-issuer=https://kubernetes.default.svc.cluster.local \
        --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
        --service-cluster-ip-range=$SERVICE_CIDR --allow-privileged=true \
        --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
        --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
        --kubelet-preferred-address-types=InternalIP --profiling=false
    wait_for kube-apiserver 120 api_ready

    start_daemon kube-controller-manager "$KBIN/kube-controller-manager" \
        --kubeconfig="$STATE/controller-manager.kubeconfig" \
        --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" \
        --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
        --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
        --profiling=false
    start_daemon kube-scheduler "$KBIN/kube-scheduler" \
        --kubeconfig="$STATE/scheduler.kubeconfig" \
        --authentication-kubeconfig="$STATE/scheduler.kubeconfig" \
        --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
        --bind-address=127.0.0.1 --leader-elect=false --profiling=false

    # CoreDNS reads Services, their EndpointSlices and Namespaces, nothing
    # else (kubeadm's system:coredns, less pods and endpoints: `pods
    # insecure`/`verified` is off, and 1.12 reads EndpointSlices only).
    kubectl_admin create clusterrole runtimes-kube-coredns --verb=list,watch \
        --resource=services,namespaces,endpointslices.discovery.k8s.io >/dev/null
    kubectl_admin create clusterrolebinding runtimes-kube-coredns \
        --clusterrole=runtimes-kube-coredns --user=runtimes-kube-coredns >/dev/null
    start_daemon coredns "$KBIN/coredns" -conf "$STATE/conf/Corefile"
    # Ready once its informers have synced with the API server.
    wait_for coredns 60 curl -sf --max-time 2 http://127.0.0.1:$DNS_READY_PORT/ready

    start_daemon containerd nsenter --mount="$STATE/ns/mnt" --net=/run/netns/$NETNS \
        containerd --config "$STATE/conf/containerd.toml"
    wait_for containerd 60 ctr --address "$CONTAINERD_SOCK" version
    ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$KBIN/pause.tar" >/dev/null

    # PATH without /usr/sbin: no iptables, so the kubelet adds no rule to the
    # host's chains (it only makes canary and hint chains with it).
    start_daemon kubelet nsenter --mount="$STATE/ns/mnt" env PATH=/usr/bin:/bin \
        "$KBIN/kubelet" --config="$STATE/conf/kubelet.yaml" \
        --kubeconfig="$STATE/kubelet.kubeconfig" \
        --hostname-override=$NODE_NAME --node-ip=$HOST_IP
    wait_for kubelet 240 node_ready
    # The node's pod CIDR, as a controller-manager allocating node CIDRs would
    # record it: the subnet the adapter reports for its networks.
    [[ -n "$(kubectl_admin get node $NODE_NAME -o 'jsonpath={.spec.podCIDR}')" ]] ||
        kubectl_admin patch node $NODE_NAME --type merge \
            -p "{\"spec\":{\"podCIDR\":\"$POD_CIDR\",\"podCIDRs\":[\"$POD_CIDR\"]}}" >/dev/null
    # Pods are admitted once the default ServiceAccount exists.
    wait_for kube-controller-manager 120 default_sa_ready
    log "ready: $(env_exports | tr '\n' ' ')"
}

# kill_wait PID...: TERM, then KILL what is left after 30 s.
kill_wait() {
    local pid left
    (($# > 0)) || return 0
    kill -TERM "$@" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        left=0
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && left=1; done
        ((left)) || return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null || true
}

# Processes in the cluster's cgroups (the pods') or in its mount namespace
# (containerd, its shims, the kubelet).
cluster_pids() {
    local ns=""
    if [[ -e $STATE/ns/mnt ]] && mountpoint -q "$STATE/ns/mnt"; then
        ns=$(stat -L -c %i "$STATE/ns/mnt")
    fi
    {
        cat /sys/fs/cgroup/*/$CGROUP_ROOT/cgroup.procs 2>/dev/null || true
        find /sys/fs/cgroup/*/$CGROUP_ROOT -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null || true
        if [[ -n $ns ]]; then
            local p
            for p in /proc/[0-9]*; do
                [[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "mnt:[$ns]" ]] && echo "${p#/proc/}"
            done
        fi
        true
    } | sort -un
}

stop() {
    local quiet=${1:-} name pid
    # Kubelet first (it would restart what goes), then the pods and
    # containerd with its shims, then the control plane.
    # The scheduler, the controller-manager and CoreDNS go together: they
    # only talk to the API server.
    for name in kubelet containerd "kube-scheduler kube-controller-manager coredns" kube-apiserver etcd; do
        if [[ $name == containerd ]]; then
            local pods=()
            mapfile -t pods < <(cluster_pids | grep -vx "$(cat "$STATE/containerd.pid" 2>/dev/null || echo x)")
            if ((${#pods[@]})); then kill -KILL "${pods[@]}" 2>/dev/null || true; fi
        fi
        local pids=() n
        for n in $name; do
            [[ -f $STATE/$n.pid ]] || continue
            pid=$(cat "$STATE/$n.pid")
            if kill -0 "$pid" 2>/dev/null; then
                [[ -n $quiet ]] || log "stopping $n"
                pids+=("$pid")
            fi
        done
        kill_wait "${pids[@]}"
        for n in $name; do rm -f "$STATE/$n.pid"; done
    done
    # Anything left in the namespace or the cgroups (shims of a killed run).
    local left=()
    mapfile -t left < <(cluster_pids)
    kill_wait "${left[@]}"
    # Dropping the last handle frees the mount namespace and with it every
    # mount made in it: overlays, volumes, the stand-ins.
    if [[ -e $STATE/ns/mnt ]]; then
        umount "$STATE/ns/mnt" 2>/dev/null || true
        umount "$STATE/ns" 2>/dev/null || true
    fi
    local h
    for h in /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
        [[ -d $h ]] || continue
        for ((i = 0; i < 20; i++)); do
            find "$h" -depth -type d -exec rmdir {} + 2>/dev/null || true
            [[ -d $h ]] || break
            sleep 0.5
        done
    done
    # The veth first: deleting it takes its peer at once, whereas a deleted
    # namespace's devices go later, asynchronously, and would make the next
    # start's `ip link add` fail.
    if ip link show $VETH_HOST >/dev/null 2>&1; then ip link delete $VETH_HOST 2>/dev/null || true; fi
    if ip netns list | grep -qw "^$NETNS"; then ip netns delete $NETNS; fi
    for ((i = 0; i < 20; i++)); do
        ip link show $VETH_HOST >/dev/null 2>&1 || break
        sleep 0.5
    done
    if [[ -f $DATA/created-dirs ]]; then
        local d
        while read -r d; do rmdir "$d" 2>/dev/null || true; done <"$DATA/created-dirs"
    fi
    # Fresh state at every start: nothing may still be mounted below.
    if findmnt -rn -o TARGET | grep -qE "^($STATE|$DATA)(/|$)"; then
        log "something is still mounted under $STATE or $DATA; leaving them"
        return 1
    fi
    rm -rf "$STATE" "$DATA"
}

status() {
    local d ok=0
    for d in "${DAEMONS[@]}"; do
        if running "$d"; then echo "$d: running (pid $(cat "$STATE/$d.pid"))"; else echo "$d: not running"; ok=1; fi
    done
    if [[ -f $STATE/admin.token ]] && api_ready; then echo "api server: ready"; else echo "api server: not ready"; ok=1; fi
    if [[ -f $STATE/admin.kubeconfig ]] && node_ready; then echo "node $NODE_NAME: Ready"; else echo "node $NODE_NAME: not Ready"; ok=1; fi
    return $ok
}

env_exports() {
    echo "export KUBECONFIG=$STATE/admin.kubeconfig"
    echo "export RUNTIMES_KUBE_LIMITED_KUBECONFIG=$STATE/limited.kubeconfig"
    echo "export RUNTIMES_KUBE_CONTAINERD_ADDRESS=$CONTAINERD_SOCK"
    echo "export RUNTIMES_KUBE_CONTAINERD_NAMESPACE=k8s.io"
    echo "export RUNTIMES_KUBECTL=$KBIN/kubectl"
}

# import REF|TAR...: a `docker save` tar, or an image of the docker engine,
# into the node's containerd, where pods with imagePullPolicy Never find it.
import_images() {
    (($# > 0)) || { echo "usage: $0 import IMAGE_REF|TAR..." >&2; exit 2; }
    local ref
    for ref in "$@"; do
        log "importing $ref"
        if [[ -f $ref ]]; then
            timeout 300 ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$ref"
        else
            timeout 300 docker save "$ref" |
                timeout 300 ctr --address "$CONTAINERD_SOCK" -n k8s.io images import -
        fi
    done
}

case "${1:-}" in
install) install ;;
start) start ;;
stop) stop ;;
status) status ;;
env) env_exports ;;
import)
    shift
    import_images "$@"
    ;;
*)
    echo "usage: $0 install|start|stop|env|status|import IMAGE_REF|TAR..." >&2
    exit 2
    ;;
esac
