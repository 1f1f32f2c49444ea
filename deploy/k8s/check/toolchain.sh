#!/usr/bin/env bash
# The Kubernetes toolchain of `make k8s-check`, built from package registries only (the Go module
# proxy and Maven Central): no release download, no container image.
#
#   toolchain.sh [install]   build what is missing, then print where it is (idempotent; a warm run
#                            only checks stamps)
#   toolchain.sh path        print the bin dir (without building)
#   toolchain.sh crds        print the Strimzi CRD dir (without building)
#   toolchain.sh newest      print the newest patch of the pinned Kubernetes minor on the proxy
#   toolchain.sh versions    print the pinned versions
#
# Binaries, cached by version under ${XDG_CACHE_HOME:-~/.cache}/gonghui/k8s/<kubernetes version>/bin:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl   k8s.io/kubernetes
#   kine (SQLite backend standing in for etcd), kwok (fakes kubelets), kustomize
# and Strimzi's CRDs as YAML under .../gonghui/k8s/strimzi-<version>/crds.
#
# Environment: GONGHUI_K8S_VERSION (v1.34.x), GONGHUI_K8S_CACHE (the cache root),
# GO (the go command), STRIMZI_JAVA (a java >= 21 for the CRD generator).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/debian-packages.sh
source "$HERE/../../debian-packages.sh"

K8S_VERSION=${GONGHUI_K8S_VERSION:-v1.34.12}   # `toolchain.sh newest` tells whether a later patch is out
KINE_VERSION=v0.17.5
KWOK_VERSION=v0.8.0
KUSTOMIZE_VERSION=v5.8.2   # v5.8.3 needs go 1.27
STRIMZI_VERSION=$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' "$HERE/pom.xml")

CACHE=${GONGHUI_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gonghui/k8s}
BIN="$CACHE/$K8S_VERSION/bin"
STAMPS="$CACHE/$K8S_VERSION/stamps"
CRDS="$CACHE/strimzi-$STRIMZI_VERSION/crds"
LOGS="$CACHE/logs"

K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

say() { printf 'toolchain: %s\n' "$*" >&2; }
fail() { printf 'toolchain: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

GO_MIN=1.26.5   # the newest `go` directive among the modules built here (kine's)

go_cmd() {
  local go have
  if [ -n "${GO:-}" ]; then go=$GO
  elif command -v go >/dev/null; then go=$(command -v go)
  elif [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go
  else fail "no go command (set GO=/path/to/go)"
  fi
  have=$(GOTOOLCHAIN=local "$go" env GOVERSION); have=${have#go}
  [ "$(printf '%s\n%s\n' "$GO_MIN" "$have" | sort -V | head -n 1)" = "$GO_MIN" ] \
    || fail "$go is go $have; these builds need go $GO_MIN or later (set GO=/path/to/go)"
  echo "$go"
}

# A stamp records which version of a part was built; a part is up to date when its stamp says the
# wanted version and all its files are there.
stamp_ok() {  # stamp version file...
  local stamp=$1 want=$2 f; shift 2
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] || return 1
  for f in "$@"; do [ -s "$f" ] || return 1; done
}
stamp_set() { mkdir -p "$(dirname "$1")"; echo "$2" >"$1"; }

# Scratch directories live until the script exits, however it exits. Not called in $(...), which
# would lose the list: the new directory is left in $SCRATCH_DIR.
SCRATCH=()
new_scratch() {
  SCRATCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gonghui-k8s-$1.XXXXXX"); SCRATCH+=("$SCRATCH_DIR")
}
# A step runs with errexit in force and its output in a log (a `( ... ) || fail` would switch
# errexit off inside); when it fails, the exit trap names the log and shows its end.
STEP_LOG=
cleanup() {
  local rc=$?
  [ ${#SCRATCH[@]} -eq 0 ] || rm -rf "${SCRATCH[@]}"
  if [ $rc -ne 0 ] && [ -n "$STEP_LOG" ]; then
    printf 'toolchain: failed, see %s; its last lines:\n' "$STEP_LOG" >&2
    tail -n 25 "$STEP_LOG" >&2 || true
  fi
}
trap cleanup EXIT

# Go settings for every build: the local toolchain (never a downloaded one), static binaries.
go_env() {
  export GOTOOLCHAIN=local CGO_ENABLED=0
  export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
}

# ---------------------------------------------------------------- kubernetes

# k8s.io/kubernetes is not meant to be a dependency: its go.mod points its ~30 staging modules
# (k8s.io/api, k8s.io/client-go, ...) at ./staging/src. A throwaway main module requires it and
# replaces each staging module with the copy published on its own as v0.<minor>.<patch>.
build_kubernetes() {
  local bins=() b
  for b in "${K8S_BINARIES[@]}"; do bins+=("$BIN/$b"); done
  stamp_ok "$STAMPS/kubernetes" "$K8S_VERSION" "${bins[@]}" && return 0

  local go work staging_version minor log="$LOGS/kubernetes-$K8S_VERSION.log"
  go=$(go_cmd); go_env
  staging_version="v0.${K8S_VERSION#v1.}"
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  new_scratch kubernetes; work=$SCRATCH_DIR
  say "building kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl); ~10 min cold on 2 cores, log: $log"
  STEP_LOG=$log
  (
    cd "$work"
    json=$("$go" mod download -json "k8s.io/kubernetes@$K8S_VERSION") || { printf '%s\n' "$json"; exit 1; }
    field() { printf '%s\n' "$json" | sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" | head -n 1; }
    mod=$(field GoMod)
    [ -f "$mod" ] || { echo "no go.mod for k8s.io/kubernetes@$K8S_VERSION"; exit 1; }
    # commit and date for `kubectl version` and /version, when the proxy knows them
    commit=$(field Hash)
    date=$(tr -d ' \n' <"$(field Info)" | sed -n 's/.*"Time":"\([^"]*\)".*/\1/p')

    {
      echo "module gonghui.local/k8s-build"
      echo
      grep -E '^(go|godebug) ' "$mod"   # same language version and GODEBUG defaults as upstream
      echo
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo
      echo "replace ("
      sed -n 's:^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/src/.*:\1:p' "$mod" \
        | while read -r m; do echo "	$m => $m $staging_version"; done
      echo ")"
    } >go.mod
    echo "replaced $(grep -c ' => ' go.mod) staging modules with $staging_version"

    ldflags="-s -w"
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ldflags+=" -X $pkg.gitTreeState=clean"
      [ -z "$commit" ] || ldflags+=" -X $pkg.gitCommit=$commit"
      [ -z "$date" ] || ldflags+=" -X $pkg.buildDate=$date"
    done
    mkdir out
    set -x
    "$go" build -mod=mod -trimpath -ldflags "$ldflags" -o out/ \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler \
      k8s.io/kubernetes/cmd/kubectl
  ) >"$log" 2>&1
  STEP_LOG=

  mkdir -p "$BIN"
  for b in "${K8S_BINARIES[@]}"; do mv -f "$work/out/$b" "$BIN/$b"; done
  stamp_set "$STAMPS/kubernetes" "$K8S_VERSION"
}

# ---------------------------------------------------------------- go install tools

go_install() {  # name version package ldflags
  local name=$1 version=$2 pkg=$3 ldflags=${4:-} go tmp log="$LOGS/$1.log"
  stamp_ok "$STAMPS/$name" "$version" "$BIN/$name" && return 0
  go=$(go_cmd); go_env
  say "building $name $version, log: $log"
  new_scratch "$name"; tmp=$SCRATCH_DIR
  STEP_LOG=$log
  GOBIN="$tmp" "$go" install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version" >"$log" 2>&1
  STEP_LOG=
  mkdir -p "$BIN"
  mv -f "$tmp/$(basename "${pkg%/v[0-9]*}")" "$BIN/$name"
  stamp_set "$STAMPS/$name" "$version"
}

build_tools() {
  # CGO off selects kine's pure-Go SQLite driver (modernc.org/sqlite): no C compiler needed.
  go_install kine "$KINE_VERSION" github.com/k3s-io/kine \
    "-X github.com/k3s-io/kine/pkg/version.Version=$KINE_VERSION"
  go_install kwok "$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  go_install kustomize "$KUSTOMIZE_VERSION" sigs.k8s.io/kustomize/kustomize/v5
}

# ---------------------------------------------------------------- strimzi CRDs

java21() {  # a java that runs class files of release 21
  local j v
  for j in ${STRIMZI_JAVA:-} ${JAVA_HOME:+$JAVA_HOME/bin/java} /usr/lib/jvm/*/bin/java \
    $(command -v java || true); do
    [ -x "$j" ] || continue
    v=$("$j" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    [ "${v%%.*}" -ge 21 ] 2>/dev/null && { echo "$j"; return 0; }
  done
  fail "Strimzi's CRD generator needs Java 21 or later (set STRIMZI_JAVA=/path/to/java)"
}

# Model class => file name, as Strimzi's own build names its install files.
STRIMZI_MODELS=(
  kafka.Kafka=040-Crd-kafka.yaml
  connect.KafkaConnect=041-Crd-kafkaconnect.yaml
  podset.StrimziPodSet=042-Crd-strimzipodset.yaml
  topic.KafkaTopic=043-Crd-kafkatopic.yaml
  user.KafkaUser=044-Crd-kafkauser.yaml
  nodepool.KafkaNodePool=045-Crd-kafkanodepool.yaml
  bridge.KafkaBridge=046-Crd-kafkabridge.yaml
  connector.KafkaConnector=047-Crd-kafkaconnector.yaml
  mirrormaker2.KafkaMirrorMaker2=048-Crd-kafkamirrormaker2.yaml
  rebalance.KafkaRebalance=049-Crd-kafkarebalance.yaml
)

build_strimzi_crds() {
  local want files=() m
  want="$STRIMZI_VERSION $(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)"
  for m in "${STRIMZI_MODELS[@]}"; do files+=("$CRDS/${m#*=}"); done
  stamp_ok "$CRDS.stamp" "$want" "${files[@]}" && return 0

  local java work log="$LOGS/strimzi-crds.log" args=() cp
  java=$(java21)
  need_commands "$LOGS/apt.log" mvn:maven || fail "installing maven failed"
  say "generating Strimzi $STRIMZI_VERSION CRDs (jars from Maven Central, generator on $java), log: $log"
  new_scratch strimzi; work=$SCRATCH_DIR
  STEP_LOG=$log
  (
    mvn -B -q -f "$HERE/pom.xml" -Dlibs.dir="$work/libs" generate-resources
    # the generator's shaded jar and the model first, their dependencies after
    cp="$work/libs/crd-generator-$STRIMZI_VERSION.jar:$work/libs/api-$STRIMZI_VERSION.jar"
    for m in "$work"/libs/*.jar; do
      case $m in */crd-generator-*|*/api-"$STRIMZI_VERSION".jar) ;; *) cp+=":$m" ;; esac
    done
    mkdir -p "$work/crds"
    for m in "${STRIMZI_MODELS[@]}"; do
      args+=("io.strimzi.api.kafka.model.${m%%=*}=$work/crds/${m#*=}")
    done
    # the same options as Strimzi's api module uses for its install files
    "$java" -cp "$cp" io.strimzi.crdgenerator.CrdGenerator \
      --label app:strimzi --label strimzi.io/crd-install:true --target-kube 1.16+ \
      --crd-api-version v1 --api-versions v1 --storage-version v1 \
      --yaml "${args[@]}"
  ) >"$log" 2>&1
  STEP_LOG=
  for m in "${files[@]}"; do [ -s "$work/crds/$(basename "$m")" ] || fail "$(basename "$m") was not generated, see $log"; done
  rm -rf "$CRDS"; mkdir -p "$(dirname "$CRDS")"
  mv "$work/crds" "$CRDS"
  stamp_set "$CRDS.stamp" "$want"
}

# The proxy's version list of k8s.io/kubernetes is incomplete, so probe patch by patch.
cmd_newest() {
  local go minor patch
  go=$(go_cmd)
  minor=$(echo "$K8S_VERSION" | cut -d. -f1,2)
  patch=$(echo "$K8S_VERSION" | cut -d. -f3)
  while GOTOOLCHAIN=local "$go" list -m "k8s.io/kubernetes@$minor.$((patch + 1))" >/dev/null 2>&1; do
    patch=$((patch + 1))
  done
  echo "$minor.$patch"
}

# ---------------------------------------------------------------- main

cmd_install() {
  mkdir -p "$CACHE" "$LOGS"
  # one build at a time per cache (two checkouts may share it)
  exec 9>"$CACHE/.lock"
  flock 9
  build_kubernetes
  build_tools
  build_strimzi_crds
  flock -u 9
  echo "bin: $BIN"
  echo "crds: $CRDS"
  echo "versions: kubernetes $K8S_VERSION, kine $KINE_VERSION, kwok $KWOK_VERSION, kustomize $KUSTOMIZE_VERSION, strimzi $STRIMZI_VERSION"
}

case ${1:-install} in
  install) cmd_install ;;
  path) echo "$BIN" ;;
  crds) echo "$CRDS" ;;
  newest) cmd_newest ;;
  versions) echo "kubernetes $K8S_VERSION kine $KINE_VERSION kwok $KWOK_VERSION kustomize $KUSTOMIZE_VERSION strimzi $STRIMZI_VERSION" ;;
  *) echo "usage: $0 [install|path|crds|newest|versions]" >&2; exit 2 ;;
esac
