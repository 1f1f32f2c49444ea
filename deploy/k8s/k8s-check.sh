#!/usr/bin/env bash
# make k8s-check: the manifests are current, render, validate, pass policy, and the alert rules
# do what their tests say.
#
#   1. the generated files (KafkaTopics, KafkaUsers, workloads) are what the registry makes
#   2. every overlay renders with kustomize
#   3. kubernetes-validate --strict: every object against the Kubernetes 1.34 schemas
#   4. promtool: the alert rules load, and their unit tests pass
#   5. checkov (offline) with the skips of checkov.yaml, each justified there
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/deploy/k8s"
OUT=${K8S_CHECK_DIR:-$(mktemp -d)}
OVERLAYS=(dev production)
CHECKOV=checkov==3.3.30
VALIDATE=kubernetes-validate==1.37.0
export UV_PYTHON_DOWNLOADS=never

say() { printf 'k8s-check: %s\n' "$*"; }
fail() { printf 'k8s-check: %s\n' "$*" >&2; exit 1; }

kustomize_build() { # overlay dir → stdout
  if command -v kustomize >/dev/null; then kustomize build "$1"
  elif command -v kubectl >/dev/null; then kubectl kustomize "$1"
  else fail "neither kustomize nor kubectl: deploy/k8s/check/toolchain.sh builds them"; fi
}

cd "$ROOT"
say "1/5 generated files are current"
.venv/bin/servicekit k8s kafka-resources deploy/k8s/base/kafka --partners deploy/local/partners.json --check
.venv/bin/python tools/k8s_manifests.py --check

say "2/5 rendering ${OVERLAYS[*]} into $OUT"
for overlay in "${OVERLAYS[@]}"; do
  kustomize_build "$HERE/overlays/$overlay" >"$OUT/$overlay.yaml"
  say "  $overlay: $(grep -c '^kind:' "$OUT/$overlay.yaml") objects"
done

say "3/5 kubernetes-validate --strict (Kubernetes 1.34; Strimzi's kinds are checked by the API server)"
if ! said=$(uvx --quiet --from "$VALIDATE" kubernetes-validate --strict --quiet -k 1.34.0 "$OUT"/*.yaml 2>&1); then
  printf '%s\n' "$said" | grep -v "Couldn't find schema for kind Kafka" >&2
  fail "kubernetes-validate found invalid objects (above)"
fi

say "4/5 promtool: alert rules and their tests"
if ! command -v promtool >/dev/null; then
  say "  installing Debian's prometheus package for promtool"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
(cd "$HERE/base/observability" && promtool check rules alerts.yaml && promtool test rules alerts.test.yaml)

say "5/5 checkov (offline)"
uvx --quiet --from "$CHECKOV" checkov -d "$OUT" --config-file "$HERE/checkov.yaml"
say "passed"
