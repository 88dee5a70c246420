#!/usr/bin/env bash
# Build kubectl (the published k8s.io/kubectl module, same Kubernetes version as the control plane)
# into a cache outside the repo. Only the plugin tests need it: discovery of kubectl-pv_doctor on
# PATH and plugin argument completion through kubectl_complete-pv_doctor (kubectl >= 1.26).
#
#   test/cluster/build-kubectl.sh          build if needed; last stdout line = path of kubectl
#   test/cluster/build-kubectl.sh --check  exit 0 if the cached kubectl is complete, else 1
#   test/cluster/build-kubectl.sh --print  print the path only
#
# Kept apart from build.sh (own module in test/cluster/kubectl) so the control-plane pins and this
# binary can change independently.
set -euo pipefail
export GOTOOLCHAIN=local CGO_ENABLED=0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODDIR=$HERE/kubectl
VERSION=$(sed -n 's/^[[:space:]]*k8s.io\/kubectl v\(.*\)$/\1/p' "$MODDIR/go.mod")
CACHE_ROOT=${PV_DOCTOR_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pv-doctor/k8s}
OUT=$CACHE_ROOT/kubectl-v$VERSION-$(go env GOVERSION)/kubectl

ok() { [[ -x $OUT ]] && "$OUT" version --client >/dev/null 2>&1; }
case "${1:-}" in
  --print) echo "$OUT"; exit 0 ;;
  --check) ok; exit $? ;;
esac
if ! ok; then
  mkdir -p "$(dirname "$OUT")"
  echo "[kubectl-build] building kubectl from k8s.io/kubectl v$VERSION" >&2
  (cd "$MODDIR" && go build -mod=readonly -trimpath -ldflags "-s -w" -o "$OUT.tmp" .)
  mv -f "$OUT.tmp" "$OUT"
fi
echo "$OUT"
