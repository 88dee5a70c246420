#!/usr/bin/env bash
# Build etcd, kube-apiserver, kube-controller-manager and kube-scheduler from Go
# modules (Go module proxy only) into a cache directory outside the repo.
#
#   test/cluster/build.sh              build if needed; last stdout line = bin dir
#   test/cluster/build.sh --print-dir  print the bin dir only (no build, no checks)
#   test/cluster/build.sh --check      exit 0 if all cached binaries are complete, else 1
#   test/cluster/build.sh --regen      regenerate test/cluster/k8sbins/go.{mod,sum}
#                                      from K8S_VERSION/ETCD_VERSION (needs network)
#
# Env: PV_DOCTOR_K8S_CACHE (cache root), GOFLAGS/GOMODCACHE/GOCACHE as usual.
set -euo pipefail

# ---- the two pins (change only these, then run --regen) ---------------------
K8S_VERSION=1.36.3   # Kubernetes; staging modules are v0.<minor>.<patch>
ETCD_VERSION=3.6.8   # must be the go.etcd.io/etcd/server/v3 that k8s.io/apiserver pins
# -----------------------------------------------------------------------------

export GOTOOLCHAIN=local CGO_ENABLED=0
command -v go >/dev/null || { echo "[k8s-build] Go >= 1.26 is required (https://go.dev/dl/); 'go' is not on PATH" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODDIR=$HERE/k8sbins
STAGING=v0.${K8S_VERSION#1.}
GOVER=$(go env GOVERSION)
CACHE_ROOT=${PV_DOCTOR_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pv-doctor/k8s}
OUT=$CACHE_ROOT/v$K8S_VERSION-etcd$ETCD_VERSION-$GOVER/bin
BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler)

log() { printf '[k8s-build] %s\n' "$*" >&2; }

# pvdhelper (PKI + process supervisor, stdlib only) is rebuilt whenever its
# source changes; that takes a few seconds and does not touch the k8s binaries.
helper_sum() { sha256sum "$MODDIR/pvdhelper/main.go" | cut -d' ' -f1; }
helper_ok() { [[ -x $OUT/pvdhelper && "$(cat "$OUT/pvdhelper.sha256" 2>/dev/null)" == "$(helper_sum)" ]]; }
build_helper() {
  helper_ok && return 0
  mkdir -p "$OUT"
  (cd "$MODDIR" && go build -trimpath -ldflags "-s -w" -o "$OUT/pvdhelper.tmp" ./pvdhelper) &&
    mv -f "$OUT/pvdhelper.tmp" "$OUT/pvdhelper" && helper_sum > "$OUT/pvdhelper.sha256"
  log "built pvdhelper"
}

cached_ok() {
  local b
  for b in "${BINS[@]}"; do [[ -x $OUT/$b ]] || return 1; done
  # Capture first: `cmd | grep -q` under pipefail fails when grep exits early (SIGPIPE).
  local v
  v=$("$OUT/kube-apiserver" --version 2>/dev/null) || return 1
  [[ $v == "Kubernetes v$K8S_VERSION" ]] || return 1
  v=$("$OUT/etcd" --version 2>/dev/null) || return 1
  [[ $v == *"etcd Version: $ETCD_VERSION"$'\n'* ]] || return 1
}

regen() {
  cd "$MODDIR"
  rm -f go.mod go.sum
  go mod init pvdoctor.local/k8sbins >&2
  go mod edit -go=1.26.0
  # Replace every staging module (k8s.io/kubernetes requires them at v0.0.0 and
  # points them at ./staging/... via replace lines a consumer ignores).
  local gomod m
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || { log "cannot locate k8s.io/kubernetes@v$K8S_VERSION go.mod"; exit 1; }
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@$STAGING"
  done
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
               "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
               "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" \
               "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go mod tidy >&2
}

check_pins() {
  # The committed go.mod must match the pins above (edit both together via --regen).
  grep -q "^[[:space:]]*k8s.io/kubernetes v$K8S_VERSION\( // indirect\)\{0,1\}$" "$MODDIR/go.mod" &&
  grep -q "^[[:space:]]*go.etcd.io/etcd/server/v3 v$ETCD_VERSION\( // indirect\)\{0,1\}$" "$MODDIR/go.mod" || {
    log "k8sbins/go.mod does not pin k8s v$K8S_VERSION / etcd v$ETCD_VERSION; run $0 --regen"; exit 1; }
}

case "${1:-}" in
  --print-dir) echo "$OUT"; exit 0 ;;
  --check) cached_ok && helper_ok; exit $? ;;
  --regen) regen; log "regenerated $MODDIR/go.mod"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-dir|--check|--regen]" >&2; exit 2 ;;
esac

if cached_ok; then
  build_helper
  log "cached: $OUT"
  echo "$OUT"; exit 0
fi

check_pins
START=$SECONDS
mkdir -p "$OUT"
cd "$MODDIR"
log "downloading modules (k8s v$K8S_VERSION, etcd v$ETCD_VERSION, $GOVER)"
go mod download >&2
T_DL=$((SECONDS - START))
log "download done in ${T_DL}s; compiling (this takes a while on a cold cache)"

MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)
LDF="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  LDF+=" -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$MINOR"
  LDF+=" -X $p.gitTreeState=clean -X $p.gitCommit=0000000000000000000000000000000000000000"
  LDF+=" -X $p.buildDate=1970-01-01T00:00:00Z"
done
# Build into a temp dir and move into place, so an interrupted build never
# leaves a half-populated cache that passes the check.
TMP=$(mktemp -d "$OUT/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$LDF" -o "$TMP/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler
go build -trimpath -ldflags "-s -w" -o "$TMP/etcd" go.etcd.io/etcd/server/v3
for b in "${BINS[@]}"; do mv -f "$TMP/$b" "$OUT/$b"; done
build_helper
cached_ok || { log "built binaries fail the version check"; "$OUT/kube-apiserver" --version >&2 || true; "$OUT/etcd" --version >&2 || true; exit 1; }
log "build done in $((SECONDS - START))s total (download ${T_DL}s, compile $((SECONDS - START - T_DL))s)"
echo "$OUT"
