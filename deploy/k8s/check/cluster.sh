#!/usr/bin/env bash
# A throwaway Kubernetes control plane on loopback, for checking manifests against a real API
# server: kine (etcd API on SQLite), kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok, which plays the kubelets of a few fake Nodes (pods are reported Running, nothing runs).
#
#   cluster.sh up       start what is not running (building the toolchain first if needed), create
#                       the fake Nodes, wait until the API server is ready and the Nodes are Ready
#   cluster.sh down     stop what `up` started (by its pid files); the state dir stays
#   cluster.sh status   one line per part; exit 1 if any part is down
#   cluster.sh purge    down, then remove the state dir
#   cluster.sh env      print `export KUBECONFIG=... PATH=...` for eval
#
# Environment (defaults):
#   GONGHUI_K8S_STATE      state dir: pki, data, kubeconfigs, logs  (${TMPDIR:-/tmp}/gonghui-k8s)
#   GONGHUI_K8S_API_PORT   kube-apiserver's secure port              (16443)
#   GONGHUI_K8S_KINE_PORT  kine's etcd port                          (18379)
#   GONGHUI_K8S_KCM_PORT, GONGHUI_K8S_SCHEDULER_PORT, GONGHUI_K8S_KWOK_PORT
#                          health ports of the others                (16257, 16259, 16247)
#   GONGHUI_K8S_NODES      how many fake Nodes, one per zone         (3)
#   GONGHUI_K8S_VOLUMES    how many 1Ti PersistentVolumes of no class, for claims (16)
# The admin kubeconfig is <state>/kubeconfig (user admin, group system:masters).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/debian-packages.sh
source "$HERE/../../debian-packages.sh"
STATE=${GONGHUI_K8S_STATE:-${TMPDIR:-/tmp}/gonghui-k8s}
PKI="$STATE/pki"
RUN="$STATE/run"
LOGS="$STATE/logs"
KUBECONFIG_FILE="$STATE/kubeconfig"

API_PORT=${GONGHUI_K8S_API_PORT:-16443}
KINE_PORT=${GONGHUI_K8S_KINE_PORT:-18379}
KCM_PORT=${GONGHUI_K8S_KCM_PORT:-16257}
SCHEDULER_PORT=${GONGHUI_K8S_SCHEDULER_PORT:-16259}
KWOK_PORT=${GONGHUI_K8S_KWOK_PORT:-16247}
NODES=${GONGHUI_K8S_NODES:-3}
VOLUMES=${GONGHUI_K8S_VOLUMES:-16}
ZONES=(a b c d e f)

SERVICE_CIDR=10.96.0.0/16   # addresses only written into objects: no traffic goes to them
POD_CIDR=10.244.0.0/16
PARTS=(kine kube-apiserver kube-controller-manager kube-scheduler kwok)

say() { printf 'cluster: %s\n' "$*" >&2; }
fail() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

BIN=$("$HERE/toolchain.sh" path)
kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# ---------------------------------------------------------------- processes

pid_of() {  # part → its pid, if it runs (and is still the program we started)
  local f="$RUN/$1.pid" pid cmdline
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *"/$1 "* ]] || return 1
  echo "$pid"
}

start() {  # part args...
  local part=$1; shift
  if pid_of "$part" >/dev/null; then return 0; fi
  # own session: the part outlives the shell that started it and its process group
  setsid "$BIN/$part" "$@" >>"$LOGS/$part.log" 2>&1 </dev/null &
  local pid=$! i
  echo "$pid" >"$RUN/$part.pid"
  # Until the child has exec'd the part, its cmdline is still this shell's and pid_of would
  # report the part gone: a loaded machine can take a while to get there.
  for ((i = 0; i < 100; i++)); do
    pid_of "$part" >/dev/null || [ ! -d "/proc/$pid" ] || { sleep 0.1; continue; }
    return 0
  done
}

stop() {  # part... — all at once (each takes ~2 s to shut down cleanly), then wait up to 10 s
  local part pid pids=() i alive
  for part in "$@"; do
    if pid=$(pid_of "$part"); then kill "$pid" 2>/dev/null || true; pids+=("$pid"); fi
    rm -f "$RUN/$part.pid"
  done
  for i in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do [ ! -d "/proc/$pid" ] || alive=1; done
    [ $alive -eq 1 ] || return 0
    sleep 0.2
  done
  for pid in "${pids[@]}"; do
    [ -d "/proc/$pid" ] || continue
    say "pid $pid did not stop in 10 s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  done
}

wait_for() {  # what seconds command... — retry the command until it succeeds
  local what=$1 seconds=$2 i; shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "$what not ready after ${seconds}s, see $LOGS/"
}

wait_part() {  # part seconds command... — the same, but give up as soon as the part has exited
  local part=$1 seconds=$2 i; shift 2
  for ((i = 0; i < seconds * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    pid_of "$part" >/dev/null || { tail -n 20 "$LOGS/$part.log" >&2; fail "$part exited, see $LOGS/$part.log"; }
    sleep 0.5
  done
  tail -n 20 "$LOGS/$part.log" >&2
  fail "$part not ready after ${seconds}s, see $LOGS/$part.log"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthz() {  # scheme port
  curl -fsk --max-time 2 "$1://127.0.0.1:$2/healthz" >/dev/null
}

need_packages() {
  need_commands "$LOGS/apt.log" openssl curl || fail "installing Debian packages failed"
}

# ---------------------------------------------------------------- credentials

# A CA, the API server's serving certificate signed by it, the service-account signing key pair,
# and one random bearer token per client. Made once per state dir.
make_pki() {
  [ -f "$PKI/tokens.csv" ] && return 0
  say "making certificates and tokens under $PKI"
  mkdir -p "$PKI"; chmod 700 "$PKI"
  (
    cd "$PKI"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=gonghui-k8s-check-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    cat >serving.ext <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:10.96.0.1, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
EOF
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
      -keyout apiserver.key -out apiserver.csr 2>/dev/null
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile serving.ext -out apiserver.crt 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub
    # token,user,uid,"groups"
    {
      echo "$(openssl rand -hex 32),admin,admin,\"system:masters\""
      echo "$(openssl rand -hex 32),system:kube-controller-manager,kube-controller-manager"
      echo "$(openssl rand -hex 32),system:kube-scheduler,kube-scheduler"
      # kwok writes the status of every Node and Pod, as the kubelets would: simplest as an admin
      echo "$(openssl rand -hex 32),kwok,kwok,\"system:masters\""
    } >tokens.csv
  )
}

write_kubeconfig() {  # file user
  local file=$1 user=$2 token
  token=$(awk -F, -v u="$user" '$2 == u { print $1 }' "$PKI/tokens.csv")
  (
    umask 077
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: gonghui-check
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $user
  user:
    token: $token
contexts:
- name: gonghui-check
  context:
    cluster: gonghui-check
    user: $user
current-context: gonghui-check
EOF
  )
}

# ---------------------------------------------------------------- parts

start_kine() {
  mkdir -p "$STATE/kine"
  start kine \
    --listen-address "127.0.0.1:$KINE_PORT" \
    --metrics-bind-address 0 \
    --endpoint "sqlite://$STATE/kine/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&cache=shared"
  wait_part kine 30 port_open "$KINE_PORT"
}

# The requestheader flags only fill the ConfigMap that the controller manager and the scheduler
# read at start (no front proxy is ever given a certificate). The `kubernetes` Service gets no
# endpoints: a loopback address is not a valid endpoint, and nothing in the cluster would use it.
start_apiserver() {
  start kube-apiserver \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
    --endpoint-reconciler-type none \
    --etcd-servers "http://127.0.0.1:$KINE_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --token-auth-file "$PKI/tokens.csv" \
    --requestheader-client-ca-file "$PKI/ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --allow-privileged \
    --profiling=false \
    --cert-dir "$PKI/apiserver-certs" \
    --v 1
  wait_part kube-apiserver 120 kubectl get --raw /readyz
}

start_controller_manager() {
  start kube-controller-manager \
    --kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
    --leader-elect=false \
    --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --profiling=false \
    --v 1
  wait_part kube-controller-manager 60 healthz https "$KCM_PORT"
}

start_scheduler() {
  start kube-scheduler \
    --kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" \
    --leader-elect=false \
    --profiling=false \
    --v 1
  wait_part kube-scheduler 60 healthz https "$SCHEDULER_PORT"
}

start_kwok() {
  start kwok \
    --kubeconfig "$STATE/kwok.kubeconfig" \
    --config "$HERE/kwok-stages.yaml" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 \
    --cidr "$POD_CIDR" \
    --server-address "127.0.0.1:$KWOK_PORT"
  wait_part kwok 60 healthz http "$KWOK_PORT"
}

# Fake Nodes, one per zone, big enough for the production overlay's requests. The status is kept
# on create (as a kubelet registering itself would send it), and kwok completes it.
node_yaml() {  # index
  local name="kwok-node-$1" zone="zone-${ZONES[$1 % ${#ZONES[@]}]}"
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: $name
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    topology.kubernetes.io/region: check
    topology.kubernetes.io/zone: $zone
status:
  addresses:
  - {type: InternalIP, address: 10.240.0.$(($1 + 10))}
  - {type: Hostname, address: $name}
  capacity: {cpu: "32", memory: 128Gi, ephemeral-storage: 1Ti, pods: "250"}
  allocatable: {cpu: "32", memory: 128Gi, ephemeral-storage: 1Ti, pods: "250"}
EOF
}

# Without a kubelet nothing can provision volumes, and a pod whose claim stays unbound is never
# scheduled. A pool of big PersistentVolumes of no class (never mounted: no pod really runs) lets
# the PV controller bind the claims of StatefulSets that name no StorageClass.
volume_yaml() {  # index
  cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: kwok-pv-$1
  labels:
    type: kwok
spec:
  storageClassName: ""
  capacity: {storage: 1Ti}
  accessModes: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: /nonexistent/kwok-pv-$1}
EOF
}

create_nodes_and_volumes() {
  local have i yaml=""
  have=" $(kubectl get nodes,pv -l type=kwok -o name | tr '\n' ' ') "
  for ((i = 0; i < NODES; i++)); do
    [[ $have == *" node/kwok-node-$i "* ]] || yaml+=$(node_yaml "$i")$'\n'
  done
  for ((i = 0; i < VOLUMES; i++)); do
    [[ $have == *" persistentvolume/kwok-pv-$i "* ]] || yaml+=$(volume_yaml "$i")$'\n'
  done
  [ -z "$yaml" ] || printf '%s' "$yaml" | kubectl create -f - >/dev/null
  # Volumes an earlier run's claims left Released (the state outlives the cluster) are made
  # Available again, or repeated checks on one machine would run out of them.
  local released
  released=$(kubectl get pv -l type=kwok \
    -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{" "}{end}')
  for i in $released; do
    kubectl patch pv "$i" --type=json -p='[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
  done
}

# ---------------------------------------------------------------- commands

cmd_up() {
  "$HERE/toolchain.sh" >/dev/null
  mkdir -p "$RUN" "$LOGS"
  need_packages
  make_pki
  write_kubeconfig "$KUBECONFIG_FILE" admin
  write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" system:kube-controller-manager
  write_kubeconfig "$STATE/kube-scheduler.kubeconfig" system:kube-scheduler
  write_kubeconfig "$STATE/kwok.kubeconfig" kwok

  say "starting kine, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (logs: $LOGS)"
  start_kine
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kwok
  create_nodes_and_volumes
  wait_for "fake Nodes" 60 kubectl wait --for=condition=Ready node -l type=kwok --timeout=2s
  # pods are refused until the namespace's default ServiceAccount exists
  wait_for "the default ServiceAccount" 60 kubectl -n default get serviceaccount default
  say "up: $(kubectl get nodes -l type=kwok --no-headers | wc -l) Ready fake Nodes; kubeconfig: $KUBECONFIG_FILE"
  echo "$KUBECONFIG_FILE"
}

cmd_down() {
  # kine last: an API server that loses its storage first hangs in its shutdown
  stop kwok kube-scheduler kube-controller-manager kube-apiserver
  stop kine
  say "down (state kept in $STATE)"
}

cmd_status() {
  local part pid bad=0
  for part in "${PARTS[@]}"; do
    if pid=$(pid_of "$part"); then echo "$part: running (pid $pid)"
    else echo "$part: down"; bad=1
    fi
  done
  if [ $bad -eq 0 ] && kubectl get --raw /readyz >/dev/null 2>&1; then
    echo "api: ready at https://127.0.0.1:$API_PORT, kubeconfig $KUBECONFIG_FILE"
  else
    echo "api: not ready"; bad=1
  fi
  return $bad
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  purge) cmd_down; rm -rf "$STATE"; say "removed $STATE" ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_FILE PATH=$BIN:\$PATH" ;;
  *) echo "usage: $0 up|down|status|purge|env" >&2; exit 2 ;;
esac
