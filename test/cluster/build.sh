#!/usr/bin/env bash
# Build the test cluster's binaries from Go modules (Go module proxy only) into
# cache directories outside the repo, keyed by version:
#
#   k8s/    etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, pvdhelper
#   node/   containerd, ctr, containerd-shim-runc-v2, runc (seccomp), CNI bridge/host-local/loopback
#   csi/    csi-provisioner, csi-attacher, csi-resizer (built inside their own modules), pvd-csi (ours)
#   images/ debian:bookworm-slim (mmdebstrap minbase + util-linux) and pause, as docker archives
#
#   test/cluster/build.sh              build what is missing; last stdout line = the k8s bin dir
#   test/cluster/build.sh --print-dir [k8s|node|csi|images]   print a dir (no build, no checks)
#   test/cluster/build.sh --check      exit 0 if every part is complete, else 1
#   test/cluster/build.sh --regen      regenerate test/cluster/k8sbins/go.{mod,sum}
#                                      from K8S_VERSION/ETCD_VERSION (needs network)
#
# Another Kubernetes version (the version runs of the e2e suite, versions.test.ts):
#   K8S_VERSION=1.32.13 test/cluster/build.sh
# builds only the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# pvdhelper) from its own generated module, test/cluster/k8sbins/v<major.minor>/go.mod (which
# also pins that version's etcd), into its own cache directory. Make one with
#   K8S_VERSION=1.33.9 ETCD_VERSION=<the etcd k8s.io/apiserver pins> test/cluster/build.sh --regen
#
# The node/ and images/ parts need gcc, libseccomp-dev and mmdebstrap (Debian packages;
# .ci/run installs them); without them they are skipped with a warning and the harness
# runs without its real node.
#
# Env: PV_DOCTOR_K8S_CACHE (k8s cache root; the other parts go next to it),
#      GOFLAGS/GOMODCACHE/GOCACHE as usual.
set -euo pipefail

# ---- the two pins (change only these, then run --regen) ---------------------
DEFAULT_K8S_VERSION=1.36.3   # Kubernetes; staging modules are v0.<minor>.<patch>
DEFAULT_ETCD_VERSION=3.6.8   # must be the go.etcd.io/etcd/server/v3 that k8s.io/apiserver pins
CONTAINERD_VERSION=2.4.2
RUNC_VERSION=1.5.3
CNI_VERSION=1.10.0
PROVISIONER_VERSION=6.4.0  # github.com/kubernetes-csi/external-provisioner/v6
ATTACHER_VERSION=4.13.0    # github.com/kubernetes-csi/external-attacher/v4
RESIZER_VERSION=2.3.0      # github.com/kubernetes-csi/external-resizer/v2 (go 1.26.0 in its go.mod)
PAUSE_VERSION=3.10.2       # the sandbox image containerd 2.4 expects
IMAGE_RECIPE=bookworm-minbase-util-linux-1   # bump when the rootfs recipe below changes
# -----------------------------------------------------------------------------

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -buildvcs=false"
command -v go >/dev/null || { echo "[k8s-build] Go >= 1.26 is required (https://go.dev/dl/); 'go' is not on PATH" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MODDIR=$HERE/k8sbins
HELPER_DIR=$HERE/k8sbins
K8S_VERSION=${K8S_VERSION:-$DEFAULT_K8S_VERSION}
CONTROL_PLANE_ONLY=
if [[ $K8S_VERSION == "$DEFAULT_K8S_VERSION" ]]; then
  ETCD_VERSION=$DEFAULT_ETCD_VERSION
else
  # Another version: its own module, its own etcd pin, and only the control plane (the real
  # node, CSI layer and images belong to the suite's own cluster).
  MODDIR=$HERE/k8sbins/v${K8S_VERSION%.*}
  CONTROL_PLANE_ONLY=1
  [[ -n ${ETCD_VERSION:-} || ! -f $MODDIR/go.mod ]] ||
    ETCD_VERSION=$(sed -n 's#^[[:space:]]*go.etcd.io/etcd/server/v3 v\([0-9.]*\).*#\1#p' "$MODDIR/go.mod" | head -1)
  [[ -n ${ETCD_VERSION:-} ]] || { echo "[k8s-build] no $MODDIR/go.mod for Kubernetes $K8S_VERSION; make one with ETCD_VERSION=... K8S_VERSION=$K8S_VERSION $0 --regen" >&2; exit 1; }
fi
STAGING=v0.${K8S_VERSION#1.}
GOVER=$(go env GOVERSION)
CACHE_ROOT=${PV_DOCTOR_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pv-doctor/k8s}
OUT=$CACHE_ROOT/v$K8S_VERSION-etcd$ETCD_VERSION-$GOVER/bin
BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet)
[[ -z $CONTROL_PLANE_ONLY ]] || BINS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
PVD_CACHE=$(dirname "$CACHE_ROOT")
NODE_OUT=$PVD_CACHE/node/containerd$CONTAINERD_VERSION-runc$RUNC_VERSION-cni$CNI_VERSION-$GOVER/bin
NODE_BINS=(containerd ctr containerd-shim-runc-v2 runc bridge host-local loopback)
CSI_OUT=$PVD_CACHE/csi/provisioner$PROVISIONER_VERSION-attacher$ATTACHER_VERSION-resizer$RESIZER_VERSION-$GOVER/bin
IMAGES_OUT=$PVD_CACHE/images/$IMAGE_RECIPE-pause$PAUSE_VERSION

log() { printf '[k8s-build] %s\n' "$*" >&2; }

# pvdhelper (PKI + process supervisor, stdlib only) is rebuilt whenever its
# source changes; that takes a few seconds and does not touch the k8s binaries.
helper_sum() { sha256sum "$HELPER_DIR/pvdhelper/main.go" | cut -d' ' -f1; }
helper_ok() { [[ -x $OUT/pvdhelper && "$(cat "$OUT/pvdhelper.sha256" 2>/dev/null)" == "$(helper_sum)" ]]; }
build_helper() {
  helper_ok && return 0
  mkdir -p "$OUT"
  (cd "$HELPER_DIR" && go build -trimpath -ldflags "-s -w" -o "$OUT/pvdhelper.tmp" ./pvdhelper) &&
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
  mkdir -p "$MODDIR"
  cd "$MODDIR"
  rm -f go.mod go.sum
  go mod init "pvdoctor.local/k8sbins${CONTROL_PLANE_ONLY:+-${K8S_VERSION%.*}}" >&2
  go mod edit -go=1.26.0
  # Replace every staging module (k8s.io/kubernetes requires them at v0.0.0 and
  # points them at ./staging/... via replace lines a consumer ignores).
  local gomod m
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $gomod ]] || { log "cannot locate k8s.io/kubernetes@v$K8S_VERSION go.mod"; exit 1; }
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\)[[:space:]]*=>[[:space:]]*\./staging/.*#\1#p' "$gomod"); do
    go mod edit -replace="$m=$m@$STAGING"
  done
  # A staging module the proxy lacks at this patch (e.g. k8s.io/endpointslice@v0.32.13): pin the
  # nearest patch it has, e.g. EXTRA_REPLACE="k8s.io/endpointslice=k8s.io/endpointslice@v0.32.12".
  for m in ${EXTRA_REPLACE:-}; do go mod edit -replace="$m"; done
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@v$K8S_VERSION" \
               "k8s.io/kubernetes/cmd/kube-controller-manager@v$K8S_VERSION" \
               "k8s.io/kubernetes/cmd/kube-scheduler@v$K8S_VERSION" \
               "k8s.io/kubernetes/cmd/kubelet@v$K8S_VERSION" \
               "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >&2
  go mod tidy >&2
}

check_pins() {
  # The committed go.mod must match the pins above (edit both together via --regen).
  grep -q "^[[:space:]]*k8s.io/kubernetes v$K8S_VERSION\( // indirect\)\{0,1\}$" "$MODDIR/go.mod" &&
  grep -q "^[[:space:]]*go.etcd.io/etcd/server/v3 v$ETCD_VERSION\( // indirect\)\{0,1\}$" "$MODDIR/go.mod" || {
    log "k8sbins/go.mod does not pin k8s v$K8S_VERSION / etcd v$ETCD_VERSION; run $0 --regen"; exit 1; }
}

# ---- node: containerd, runc, CNI ---------------------------------------------
node_ok() {
  local b v
  for b in "${NODE_BINS[@]}"; do [[ -x $NODE_OUT/$b ]] || return 1; done
  v=$("$NODE_OUT/containerd" --version 2>/dev/null) || return 1
  [[ $v == *" v$CONTAINERD_VERSION "* || $v == *" v$CONTAINERD_VERSION" ]] || return 1
  v=$("$NODE_OUT/runc" --version 2>/dev/null) || return 1
  [[ $v == *"version $RUNC_VERSION"* && $v == *seccomp* ]]
}
node_prereqs() {
  command -v gcc >/dev/null && pkg-config --exists libseccomp 2>/dev/null
}
build_node() {
  node_ok && return 0
  node_prereqs || { log "warning: no gcc or libseccomp-dev (apt-get install gcc libseccomp-dev): skipping containerd/runc; no real node"; return 0; }
  local s=$SECONDS tmp
  mkdir -p "$NODE_OUT"
  tmp=$(mktemp -d "$NODE_OUT/.build.XXXXXX")
  # These modules have no replace directives, so `go install m@v` builds them from
  # their own go.mod (never merged with k8sbins: containerd wants newer shared deps).
  (cd "$tmp" && GOBIN=$tmp go install -trimpath -tags no_btrfs,no_devmapper,no_zfs \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd@v$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@v$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@v$CONTAINERD_VERSION")
  log "built containerd v$CONTAINERD_VERSION in $((SECONDS - s))s"
  # runc needs cgo (nsexec) and seccomp: containerd's sandboxes always carry a seccomp profile.
  (cd "$tmp" && CGO_ENABLED=1 GOBIN=$tmp go install -trimpath -tags seccomp -ldflags "-s -w -X main.version=$RUNC_VERSION" \
    "github.com/opencontainers/runc@v$RUNC_VERSION")
  (cd "$tmp" && GOBIN=$tmp go install -trimpath -ldflags "-s -w" \
    "github.com/containernetworking/plugins/plugins/main/bridge@v$CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/main/loopback@v$CNI_VERSION" \
    "github.com/containernetworking/plugins/plugins/ipam/host-local@v$CNI_VERSION")
  for b in "${NODE_BINS[@]}"; do mv -f "$tmp/$b" "$NODE_OUT/$b"; done
  rm -rf "$tmp"
  node_ok || { log "node binaries fail the version check"; exit 1; }
  log "built containerd, runc, CNI in $((SECONDS - s))s"
}

# ---- csi: external-provisioner, external-attacher, external-resizer, pvd-csi --
moddir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'; }
pvdcsi_sum() { cat "$HERE/pvdcsi/main.go" "$HERE/pvdcsi/go.sum" | sha256sum | cut -d' ' -f1; }
pvdcsi_ok() { [[ -x $CSI_OUT/pvd-csi && "$(cat "$CSI_OUT/pvd-csi.sha256" 2>/dev/null)" == "$(pvdcsi_sum)" ]]; }
sidecars_ok() {
  local v
  v=$("$CSI_OUT/csi-provisioner" --version 2>/dev/null) || return 1
  [[ $v == *" v$PROVISIONER_VERSION" ]] || return 1
  v=$("$CSI_OUT/csi-attacher" --version 2>/dev/null) || return 1
  [[ $v == *" v$ATTACHER_VERSION" ]] || return 1
  v=$("$CSI_OUT/csi-resizer" --version 2>/dev/null) || return 1
  [[ $v == *" v$RESIZER_VERSION" ]]
}
csi_ok() { sidecars_ok && pvdcsi_ok; }
# build_sidecar NAME MODULE VERSION: `go install m@v` refuses modules with replace directives
# (the sidecars have them), so build inside the downloaded module, with upstream's exact
# go.mod/go.sum. A binary already in this (versioned) dir is kept, so an interrupted build
# resumes where it stopped.
build_sidecar() {
  local name=$1 mod=$2 ver=$3 s=$SECONDS d
  [[ -x $CSI_OUT/$name ]] && return 0
  d=$(moddir "$mod@v$ver")
  (cd "$d" && go build -trimpath -ldflags "-s -w -X main.version=v$ver" -o "$CSI_OUT/$name.tmp" "./cmd/$name")
  mv -f "$CSI_OUT/$name.tmp" "$CSI_OUT/$name"
  log "built $name v$ver in $((SECONDS - s))s"
}
build_csi() {
  mkdir -p "$CSI_OUT"
  if ! pvdcsi_ok; then
    local s0=$SECONDS
    (cd "$HERE/pvdcsi" && go build -trimpath -ldflags "-s -w" -o "$CSI_OUT/pvd-csi.tmp" .) &&
      mv -f "$CSI_OUT/pvd-csi.tmp" "$CSI_OUT/pvd-csi" && pvdcsi_sum > "$CSI_OUT/pvd-csi.sha256"
    log "built pvd-csi in $((SECONDS - s0))s"
  fi
  sidecars_ok && return 0
  build_sidecar csi-provisioner "github.com/kubernetes-csi/external-provisioner/v6" "$PROVISIONER_VERSION"
  build_sidecar csi-attacher "github.com/kubernetes-csi/external-attacher/v4" "$ATTACHER_VERSION"
  build_sidecar csi-resizer "github.com/kubernetes-csi/external-resizer/v2" "$RESIZER_VERSION"
  sidecars_ok || { log "CSI sidecars fail the version check"; exit 1; }
}

# ---- images: debian:bookworm-slim stand-in and pause, without a registry ------
images_ok() { [[ -s $IMAGES_OUT/debian-image.tar && -s $IMAGES_OUT/pause-image.tar ]]; }
# mkimage OUT TAG LAYER_TAR CMD_JSON: a one-layer docker archive (what `ctr images import` reads).
mkimage() {
  local out=$1 tag=$2 layer=$3 cmd=$4 dir diffid cfg cfgsum
  dir=$(mktemp -d "$IMAGES_OUT.XXXXXX")
  diffid=$(sha256sum "$layer" | cut -d' ' -f1)
  mkdir "$dir/$diffid" && cp "$layer" "$dir/$diffid/layer.tar"
  cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":'$cmd'},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]}}'
  cfgsum=$(printf '%s' "$cfg" | sha256sum | cut -d' ' -f1)
  printf '%s' "$cfg" > "$dir/$cfgsum.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfgsum" "$tag" "$diffid" > "$dir/manifest.json"
  tar -C "$dir" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$out" manifest.json "$cfgsum.json" "$diffid"
  rm -rf "$dir"
}
build_images() {
  images_ok && return 0
  command -v mmdebstrap >/dev/null && command -v gcc >/dev/null || {
    log "warning: no mmdebstrap or gcc (apt-get install mmdebstrap gcc): skipping the node images; no real node"; return 0; }
  local s=$SECONDS tmp pausec
  mkdir -p "$(dirname "$IMAGES_OUT")"
  tmp=$(mktemp -d "$IMAGES_OUT.build.XXXXXX")
  # pause: the CRI sandbox process, compiled from the source the kubernetes module ships.
  pausec=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')/build/pause/linux/pause.c
  mkdir "$tmp/pause"
  gcc -Os -Wall -static -DVERSION="v$PAUSE_VERSION-pvd" -o "$tmp/pause/pause" "$pausec" && strip "$tmp/pause/pause"
  tar -C "$tmp/pause" --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$tmp/pause-layer.tar" pause
  mkimage "$tmp/pause-image.tar" "registry.k8s.io/pause:$PAUSE_VERSION" "$tmp/pause-layer.tar" '["/pause"]'
  # debian:bookworm-slim: a minbase rootfs with util-linux (lsblk, blkid, wipefs) from
  # Debian's own mirror; pods ask for it with imagePullPolicy IfNotPresent.
  mmdebstrap --quiet --variant=minbase --include=util-linux \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    bookworm "$tmp/rootfs.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main" >&2
  mkimage "$tmp/debian-image.tar" "debian:bookworm-slim" "$tmp/rootfs.tar" '["bash"]'
  mkdir -p "$IMAGES_OUT"
  mv -f "$tmp/pause-image.tar" "$tmp/debian-image.tar" "$IMAGES_OUT/"
  rm -rf "$tmp"
  log "built images in $((SECONDS - s))s"
}

case "${1:-}" in
  --print-dir)
    case "${2:-k8s}" in
      k8s) echo "$OUT" ;; node) echo "$NODE_OUT" ;; csi) echo "$CSI_OUT" ;; images) echo "$IMAGES_OUT" ;;
      *) echo "usage: $0 --print-dir [k8s|node|csi|images]" >&2; exit 2 ;;
    esac
    exit 0 ;;
  --check)
    if [[ -n $CONTROL_PLANE_ONLY ]]; then cached_ok && helper_ok; exit $?; fi
    cached_ok && helper_ok && csi_ok && { ! node_prereqs || node_ok; } && images_ok; exit $? ;;
  --regen) regen; log "regenerated $MODDIR/go.mod"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--print-dir|--check|--regen]" >&2; exit 2 ;;
esac

build_rest() {
  [[ -z $CONTROL_PLANE_ONLY ]] || return 0
  build_csi
  build_node
  build_images
}

if cached_ok; then
  build_helper
  build_rest
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
# One invocation: the four binaries share most packages, so each is compiled once.
CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet)
[[ -z $CONTROL_PLANE_ONLY ]] || CMDS=(kube-apiserver kube-controller-manager kube-scheduler)
go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$LDF" -o "$TMP/" "${CMDS[@]/#/k8s.io/kubernetes/cmd/}"
go build -trimpath -ldflags "-s -w" -o "$TMP/etcd" go.etcd.io/etcd/server/v3
for b in "${BINS[@]}"; do mv -f "$TMP/$b" "$OUT/$b"; done
build_helper
log "built the control plane, kubelet and etcd in $((SECONDS - START - T_DL))s"
build_rest
cached_ok || { log "built binaries fail the version check"; "$OUT/kube-apiserver" --version >&2 || true; "$OUT/etcd" --version >&2 || true; exit 1; }
log "build done in $((SECONDS - START))s total (download ${T_DL}s, compile $((SECONDS - START - T_DL))s)"
echo "$OUT"
