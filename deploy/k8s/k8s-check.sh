#!/usr/bin/env bash
# make k8s-check: the manifests are current, render, validate, pass policy, and the alert rules
# do what their tests say.
#
#   1. the generated files (KafkaTopics, KafkaUsers, workloads) are what the registry makes
#   2. every overlay renders with kustomize
#   3. kubernetes-validate --strict: every object against the Kubernetes 1.34 schemas
#   4. promtool: the alert rules load, and their unit tests pass
#   5. checkov (offline) with the skips of checkov.yaml, each justified there
#   6. a real API server (built from the Go module proxy, deploy/k8s/check/): Strimzi's CRDs
#      installed, every overlay accepted by `kubectl apply --dry-run=server --validate=strict`,
#      then each applied for real and rolled out onto kwok's fake nodes: every Deployment and
#      StatefulSet ready, every Service with endpoints
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/deploy/k8s"
# shellcheck source=deploy/debian-packages.sh
source "$ROOT/deploy/debian-packages.sh"
OUT=${K8S_CHECK_DIR:-$(mktemp -d)}
OVERLAYS=(dev production)
CHECKOV=checkov==3.3.30
VALIDATE=kubernetes-validate==1.37.0
export UV_PYTHON_DOWNLOADS=never

say() { printf 'k8s-check: %s\n' "$*"; }
fail() { printf 'k8s-check: %s\n' "$*" >&2; exit 1; }

cd "$ROOT"
say "0/6 the toolchain (built once, cached by version)"
"$HERE/check/toolchain.sh" install >/dev/null
BIN=$("$HERE/check/toolchain.sh" path)
CRDS=$("$HERE/check/toolchain.sh" crds)
kustomize_build() { "$BIN/kustomize" build "$1"; }

say "1/6 generated files are current"
.venv/bin/servicekit k8s kafka-resources deploy/k8s/base/kafka --partners deploy/local/partners.json --check
.venv/bin/python tools/k8s_manifests.py --check

say "2/6 rendering ${OVERLAYS[*]} into $OUT"
for overlay in "${OVERLAYS[@]}"; do
  kustomize_build "$HERE/overlays/$overlay" >"$OUT/$overlay.yaml"
  say "  $overlay: $(grep -c '^kind:' "$OUT/$overlay.yaml") objects"
done

say "3/6 kubernetes-validate --strict (Kubernetes 1.34; Strimzi's kinds are checked by the API server)"
if ! said=$(uvx --quiet --from "$VALIDATE" kubernetes-validate --strict --quiet -k 1.34.0 "$OUT"/*.yaml 2>&1); then
  printf '%s\n' "$said" | grep -v "Couldn't find schema for kind Kafka" >&2
  fail "kubernetes-validate found invalid objects (above)"
fi

say "4/6 promtool: alert rules and their tests"
need_commands "$OUT/apt.log" promtool:prometheus || fail "installing promtool failed"
(cd "$HERE/base/observability" && promtool check rules alerts.yaml && promtool test rules alerts.test.yaml)

say "5/6 checkov (offline)"
uvx --quiet --from "$CHECKOV" checkov -d "$OUT" --config-file "$HERE/checkov.yaml"

say "6/6 a real API server"
trap '"$HERE/check/cluster.sh" down >/dev/null 2>&1 || true' EXIT
"$HERE/check/cluster.sh" up >/dev/null
eval "$("$HERE/check/cluster.sh" env)"
kubectl apply --server-side --force-conflicts -f "$CRDS" >/dev/null
# `kubectl wait` gives up at once on a CRD whose status has no conditions yet: ask again
for ((try = 0; try < 120; try++)); do
  kubectl wait --for=condition=Established crd --all --timeout=5s >/dev/null 2>&1 && break
  sleep 1
done
kubectl wait --for=condition=Established crd --all --timeout=5s >/dev/null \
  || fail "Strimzi's CRDs not established"
# the namespace first: a dry run cannot create what the objects of the same file live in
kubectl get namespace gonghui >/dev/null 2>&1 || kubectl create namespace gonghui >/dev/null
for overlay in "${OVERLAYS[@]}"; do
  kubectl apply --dry-run=server --validate=strict --server-side -f "$OUT/$overlay.yaml" >/dev/null \
    || fail "the API server refused objects of $overlay (above)"
  say "  $overlay: every object accepted (dry run, strict)"
done
# then each overlay for real, rolled out onto kwok's fake nodes (cluster.sh gives the volume
# claims volumes): every Deployment and StatefulSet ready, every Service with endpoints
for overlay in "${OVERLAYS[@]}"; do
  kubectl delete namespace gonghui --ignore-not-found --wait --timeout=180s >/dev/null
  kubectl apply --server-side -f "$OUT/$overlay.yaml" >/dev/null
  kubectl -n gonghui wait --for=condition=Available deployment --all --timeout=180s >/dev/null \
    || fail "$overlay: Deployments not available: $(kubectl -n gonghui get deployments 2>&1)"
  for set in $(kubectl -n gonghui get statefulsets -o name); do
    kubectl -n gonghui rollout status "$set" --timeout=180s >/dev/null || fail "$overlay: $set not ready"
  done
  for service in $(kubectl -n gonghui get services -o jsonpath='{.items[*].metadata.name}'); do
    ready=$(kubectl -n gonghui get endpointslices -l "kubernetes.io/service-name=$service" \
      -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}x{end}')
    [ -n "$ready" ] || fail "$overlay: Service $service has no ready endpoint"
  done
  say "  $overlay: $(kubectl -n gonghui get deployments -o name | wc -l) Deployments available, every Service with endpoints"
done
say "passed"
