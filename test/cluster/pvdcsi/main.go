// pvd-csi: a small CSI driver for pv-doctor's test cluster. It serves the
// Identity, Controller and Node services on one unix socket, so the real
// external-provisioner, external-attacher and external-resizer drive it like any CSI driver, and
// the harness's real kubelet can mount its volumes (a directory per volume
// under --data-dir, bind-mounted into the pod).
//
// Failures are injected per StorageClass parameter, so parallel tests using
// different classes never interfere (values are "<gRPC code>[: message]", or
// "Hang" to block until the caller's deadline):
//
//	fail-create, fail-delete            CreateVolume / DeleteVolume
//	fail-attach, fail-detach            ControllerPublish / ControllerUnpublish
//	fail-attach-nodes                   comma list of node IDs fail-attach applies to
//	fail-expand                         ControllerExpandVolume
//	max-size                            ControllerExpandVolume above this size fails OutOfRange
//	                                    (the resizer's "infeasible"), e.g. "1536Mi"
//	node-expansion-required             "true": ControllerExpandVolume answers node_expansion_required
//	capacity                            "10Gi" or "zone-a=1Gi,zone-b=2Gi,*=0" (GetCapacity and CreateVolume)
//	fail-key                            runtime switch: while the file <fail-dir>/<key>/<RPC> exists,
//	                                    that RPC fails with the file's content (e.g. "Internal: boom")
//
// The attach/detach/key parameters travel in the volume context (the PV's
// spec.csi.volumeAttributes), which is what the attacher sends to
// ControllerPublish/Unpublish; a hand-made PV can carry the same attributes. The
// expand parameters are read from the driver's own record of the volume (a
// ControllerExpandVolume request carries no volume context).
// Volumes are kept in memory: unknown volume IDs are accepted (static PVs, a
// restarted driver).
//
// It also answers the kubelet's plugin registration (pluginregistration v1) on
// --registration-dir, which is the node-driver-registrar's job in a real
// cluster: the kubelet then adds this driver to the node's CSINode object.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

var (
	endpoint    = flag.String("endpoint", "", "unix socket path for the CSI services")
	driverName  = flag.String("drivername", "pvd.csi.test", "CSI driver name")
	topologyKey = flag.String("topology-key", "topology.kubernetes.io/zone", "topology key of the zone segments")
	nodeID      = flag.String("node-id", "", "node ID of the Node service (the real node's name); empty: controller only")
	nodeZone    = flag.String("node-zone", "", "zone the Node service reports")
	dataDir     = flag.String("data-dir", "", "directory holding one directory per volume (for NodePublish)")
	failDir     = flag.String("fail-dir", "", "runtime failure switches: <dir>/<fail-key>/<RPC> files")
	regDir      = flag.String("registration-dir", "", "kubelet plugins_registry directory; empty: no registration socket")
	defCapacity = flag.String("capacity", "*=100Gi", "capacity when a class has no 'capacity' parameter")
)

const version = "1.0.0"

type volume struct {
	id     string
	name   string
	size   int64
	zone   string
	params map[string]string
}

type driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer
	mu      sync.Mutex
	volumes map[string]*volume // by ID (= the CreateVolume name)
}

// ---------------------------------------------------------------------------
// failure injection

// injected turns a "<Code>[: message]" value into a gRPC error; "Hang" waits for the caller's deadline.
func injected(ctx context.Context, spec, what string) error {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil
	}
	name, msg, _ := strings.Cut(spec, ":")
	name, msg = strings.TrimSpace(name), strings.TrimSpace(msg)
	if name == "Hang" {
		<-ctx.Done()
		return status.Errorf(codes.DeadlineExceeded, "%s: injected hang", what)
	}
	code := codes.Internal
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if c.String() == name {
			code = c
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("injected %s failure", what)
	}
	return status.Error(code, msg)
}

// switched reads the runtime switch <fail-dir>/<key>/<rpc> (and the global <fail-dir>/<rpc>).
func switched(ctx context.Context, key, rpc string) error {
	if *failDir == "" {
		return nil
	}
	files := []string{filepath.Join(*failDir, rpc)}
	if key != "" && !strings.ContainsAny(key, "/.") {
		files = append(files, filepath.Join(*failDir, key, rpc))
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			v := string(b)
			if strings.TrimSpace(v) == "" {
				v = "Internal"
			}
			return injected(ctx, v, rpc)
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// capacity

// parseQuantity understands the binary and decimal suffixes a test writes (1Gi, 500Mi, 10G, 1024).
func parseQuantity(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if strings.HasSuffix(s, u.suf) {
			s, mult = strings.TrimSuffix(s, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad quantity %q", s)
	}
	return n * mult, nil
}

// capacityOf is the configured size of a zone's pool ("*" is every other zone); -1 = unlimited.
func capacityOf(spec, zone string) (int64, error) {
	if spec == "" {
		spec = *defCapacity
	}
	if !strings.Contains(spec, "=") {
		return parseQuantity(spec)
	}
	var star int64 = -1
	for _, part := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		q, err := parseQuantity(v)
		if err != nil {
			return 0, err
		}
		if k == zone {
			return q, nil
		}
		if k == "*" {
			star = q
		}
	}
	if star < 0 {
		return 0, nil
	}
	return star, nil
}

// available = pool size minus the volumes created in that zone from a class with the same capacity spec.
func (d *driver) available(spec, zone string) (int64, error) {
	total, err := capacityOf(spec, zone)
	if err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "parameter 'capacity': %v", err)
	}
	for _, v := range d.volumes {
		if v.zone == zone && v.params["capacity"] == spec {
			total -= v.size
		}
	}
	return max(total, 0), nil
}

// ---------------------------------------------------------------------------
// Identity

func (d *driver) GetPluginInfo(context.Context, *csi.GetPluginInfoRequest) (*csi.GetPluginInfoResponse, error) {
	return &csi.GetPluginInfoResponse{Name: *driverName, VendorVersion: version}, nil
}

func (d *driver) GetPluginCapabilities(context.Context, *csi.GetPluginCapabilitiesRequest) (*csi.GetPluginCapabilitiesResponse, error) {
	svc := func(t csi.PluginCapability_Service_Type) *csi.PluginCapability {
		return &csi.PluginCapability{Type: &csi.PluginCapability_Service_{Service: &csi.PluginCapability_Service{Type: t}}}
	}
	return &csi.GetPluginCapabilitiesResponse{Capabilities: []*csi.PluginCapability{
		svc(csi.PluginCapability_Service_CONTROLLER_SERVICE),
		svc(csi.PluginCapability_Service_VOLUME_ACCESSIBILITY_CONSTRAINTS),
	}}, nil
}

func (d *driver) Probe(context.Context, *csi.ProbeRequest) (*csi.ProbeResponse, error) {
	return &csi.ProbeResponse{}, nil
}

// ---------------------------------------------------------------------------
// Controller

func (d *driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var caps []*csi.ControllerServiceCapability
	for _, t := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_PUBLISH_UNPUBLISH_VOLUME,
		csi.ControllerServiceCapability_RPC_GET_CAPACITY,
		csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
	} {
		caps = append(caps, &csi.ControllerServiceCapability{Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: t}}})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: caps}, nil
}

func zoneOf(t *csi.Topology) string {
	if t == nil {
		return ""
	}
	return t.Segments[*topologyKey]
}

func (d *driver) CreateVolume(ctx context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.Name == "" {
		return nil, status.Error(codes.InvalidArgument, "volume name missing")
	}
	if len(req.VolumeCapabilities) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	p := req.Parameters
	if err := injected(ctx, p["fail-create"], "CreateVolume"); err != nil {
		return nil, err
	}
	if err := switched(ctx, p["fail-key"], "CreateVolume"); err != nil {
		return nil, err
	}
	size := req.GetCapacityRange().GetRequiredBytes()
	if size == 0 {
		size = req.GetCapacityRange().GetLimitBytes()
	}
	if size == 0 {
		size = 1 << 30
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if v, ok := d.volumes[req.Name]; ok { // idempotent retry
		return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
	}
	// Candidate zones in the order the provisioner prefers them (the selected node's first).
	var zones []string
	seen := map[string]bool{}
	for _, t := range append(append([]*csi.Topology{}, req.GetAccessibilityRequirements().GetPreferred()...), req.GetAccessibilityRequirements().GetRequisite()...) {
		if z := zoneOf(t); z != "" && !seen[z] {
			seen[z] = true
			zones = append(zones, z)
		}
	}
	if len(zones) == 0 {
		zones = []string{""}
	}
	zone := ""
	for i, z := range zones {
		avail, err := d.available(p["capacity"], z)
		if err != nil {
			return nil, err
		}
		if avail >= size {
			zone = z
			break
		}
		if i == len(zones)-1 {
			return nil, status.Errorf(codes.ResourceExhausted, "insufficient capacity in %q: requested %d bytes, %d available", zones[0], size, avail)
		}
	}
	v := &volume{id: req.Name, name: req.Name, size: size, zone: zone, params: p}
	d.volumes[v.id] = v
	log.Printf("CreateVolume %s size=%d zone=%q", v.id, size, zone)
	return &csi.CreateVolumeResponse{Volume: d.csiVolume(v)}, nil
}

func (d *driver) csiVolume(v *volume) *csi.Volume {
	ctx := map[string]string{}
	for _, k := range []string{"fail-attach", "fail-detach", "fail-attach-nodes", "fail-key"} {
		if s, ok := v.params[k]; ok {
			ctx[k] = s
		}
	}
	out := &csi.Volume{VolumeId: v.id, CapacityBytes: v.size, VolumeContext: ctx}
	if v.zone != "" {
		out.AccessibleTopology = []*csi.Topology{{Segments: map[string]string{*topologyKey: v.zone}}}
	}
	return out
}

func (d *driver) DeleteVolume(ctx context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	d.mu.Lock()
	v := d.volumes[req.VolumeId]
	d.mu.Unlock()
	if v != nil {
		if err := injected(ctx, v.params["fail-delete"], "DeleteVolume"); err != nil {
			return nil, err
		}
		if err := switched(ctx, v.params["fail-key"], "DeleteVolume"); err != nil {
			return nil, err
		}
	} else if err := switched(ctx, "", "DeleteVolume"); err != nil {
		return nil, err
	}
	d.mu.Lock()
	delete(d.volumes, req.VolumeId)
	d.mu.Unlock()
	if *dataDir != "" && validID(req.VolumeId) {
		os.RemoveAll(filepath.Join(*dataDir, req.VolumeId))
	}
	log.Printf("DeleteVolume %s", req.VolumeId)
	return &csi.DeleteVolumeResponse{}, nil
}

func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "/\x00") && id != "." && id != ".."
}

func (d *driver) ControllerPublishVolume(ctx context.Context, req *csi.ControllerPublishVolumeRequest) (*csi.ControllerPublishVolumeResponse, error) {
	vc := req.VolumeContext
	nodes := vc["fail-attach-nodes"]
	applies := nodes == ""
	for _, n := range strings.Split(nodes, ",") {
		if strings.TrimSpace(n) == req.NodeId {
			applies = true
		}
	}
	if applies {
		if err := injected(ctx, vc["fail-attach"], "ControllerPublishVolume"); err != nil {
			return nil, err
		}
	}
	if err := switched(ctx, vc["fail-key"], "ControllerPublishVolume"); err != nil {
		return nil, err
	}
	log.Printf("ControllerPublishVolume %s -> %s", req.VolumeId, req.NodeId)
	return &csi.ControllerPublishVolumeResponse{PublishContext: map[string]string{"attached-to": req.NodeId}}, nil
}

func (d *driver) ControllerUnpublishVolume(ctx context.Context, req *csi.ControllerUnpublishVolumeRequest) (*csi.ControllerUnpublishVolumeResponse, error) {
	// The unpublish request carries no volume context; find it from our own records.
	d.mu.Lock()
	v := d.volumes[req.VolumeId]
	d.mu.Unlock()
	key := ""
	if v != nil {
		if err := injected(ctx, v.params["fail-detach"], "ControllerUnpublishVolume"); err != nil {
			return nil, err
		}
		key = v.params["fail-key"]
	}
	if err := switched(ctx, key, "ControllerUnpublishVolume"); err != nil {
		return nil, err
	}
	log.Printf("ControllerUnpublishVolume %s <- %s", req.VolumeId, req.NodeId)
	return &csi.ControllerUnpublishVolumeResponse{}, nil
}

func (d *driver) ControllerExpandVolume(ctx context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	if req.VolumeId == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID missing")
	}
	size := req.GetCapacityRange().GetRequiredBytes()
	d.mu.Lock()
	v := d.volumes[req.VolumeId]
	d.mu.Unlock()
	var p map[string]string
	if v != nil {
		p = v.params
	}
	if err := injected(ctx, p["fail-expand"], "ControllerExpandVolume"); err != nil {
		return nil, err
	}
	if err := switched(ctx, p["fail-key"], "ControllerExpandVolume"); err != nil {
		return nil, err
	}
	if m := p["max-size"]; m != "" {
		limit, err := parseQuantity(m)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "parameter 'max-size': %v", err)
		}
		if size > limit {
			return nil, status.Errorf(codes.OutOfRange, "requested %d bytes exceeds the maximum volume size %d bytes", size, limit)
		}
	}
	d.mu.Lock()
	if v != nil && size > v.size {
		v.size = size
	}
	d.mu.Unlock()
	nodeExpansion := p["node-expansion-required"] == "true"
	log.Printf("ControllerExpandVolume %s to %d bytes (node expansion required: %v)", req.VolumeId, size, nodeExpansion)
	return &csi.ControllerExpandVolumeResponse{CapacityBytes: size, NodeExpansionRequired: nodeExpansion}, nil
}

func (d *driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if len(req.VolumeCapabilities) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume capabilities missing")
	}
	for _, c := range req.VolumeCapabilities {
		if c.GetMount() == nil {
			return &csi.ValidateVolumeCapabilitiesResponse{Message: "only mount (filesystem) volumes are supported"}, nil
		}
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext: req.VolumeContext, VolumeCapabilities: req.VolumeCapabilities, Parameters: req.Parameters,
	}}, nil
}

func (d *driver) GetCapacity(ctx context.Context, req *csi.GetCapacityRequest) (*csi.GetCapacityResponse, error) {
	if err := switched(ctx, req.Parameters["fail-key"], "GetCapacity"); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	avail, err := d.available(req.Parameters["capacity"], zoneOf(req.AccessibleTopology))
	if err != nil {
		return nil, err
	}
	return &csi.GetCapacityResponse{AvailableCapacity: avail}, nil
}

// ---------------------------------------------------------------------------
// Node (only for the real node; the fake nodes have no kubelet)

func (d *driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	r := &csi.NodeGetInfoResponse{NodeId: *nodeID}
	if *nodeZone != "" {
		r.AccessibleTopology = &csi.Topology{Segments: map[string]string{*topologyKey: *nodeZone}}
	}
	return r, nil
}

func (d *driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	return &csi.NodeGetCapabilitiesResponse{}, nil // no STAGE_UNSTAGE: NodePublish does everything
}

// mounted reports whether path is a mount point (listed in our mount table).
func mounted(path string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.ReplaceAll(f[4], `\040`, " ") == path {
			return true
		}
	}
	return false
}

func (d *driver) NodePublishVolume(_ context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	if !validID(req.VolumeId) || req.TargetPath == "" {
		return nil, status.Error(codes.InvalidArgument, "volume ID or target path missing")
	}
	if req.GetVolumeCapability().GetMount() == nil {
		return nil, status.Error(codes.InvalidArgument, "only mount (filesystem) volumes are supported")
	}
	if *dataDir == "" {
		return nil, status.Error(codes.FailedPrecondition, "driver started without --data-dir")
	}
	src := filepath.Join(*dataDir, req.VolumeId)
	if err := os.MkdirAll(src, 0o777); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := os.MkdirAll(req.TargetPath, 0o750); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if mounted(req.TargetPath) {
		return &csi.NodePublishVolumeResponse{}, nil
	}
	if err := syscall.Mount(src, req.TargetPath, "", syscall.MS_BIND, ""); err != nil {
		return nil, status.Errorf(codes.Internal, "bind mount %s: %v", req.TargetPath, err)
	}
	if req.Readonly {
		if err := syscall.Mount("", req.TargetPath, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			syscall.Unmount(req.TargetPath, 0)
			return nil, status.Errorf(codes.Internal, "read-only remount %s: %v", req.TargetPath, err)
		}
	}
	log.Printf("NodePublishVolume %s at %s", req.VolumeId, req.TargetPath)
	return &csi.NodePublishVolumeResponse{}, nil
}

func (d *driver) NodeUnpublishVolume(_ context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if req.TargetPath == "" {
		return nil, status.Error(codes.InvalidArgument, "target path missing")
	}
	for mounted(req.TargetPath) {
		if err := syscall.Unmount(req.TargetPath, 0); err != nil {
			return nil, status.Errorf(codes.Internal, "unmount %s: %v", req.TargetPath, err)
		}
	}
	if err := os.Remove(req.TargetPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	log.Printf("NodeUnpublishVolume %s at %s", req.VolumeId, req.TargetPath)
	return &csi.NodeUnpublishVolumeResponse{}, nil
}

// ---------------------------------------------------------------------------
// kubelet plugin registration (what node-driver-registrar does)

type registration struct {
	registerapi.UnimplementedRegistrationServer
}

func (registration) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{Type: registerapi.CSIPlugin, Name: *driverName, Endpoint: *endpoint, SupportedVersions: []string{"1.0.0"}}, nil
}

func (registration) NotifyRegistrationStatus(_ context.Context, s *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if s.PluginRegistered {
		log.Printf("registered with the kubelet")
	} else {
		log.Printf("kubelet registration failed: %s", s.Error)
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	os.Remove(path)
	return net.Listen("unix", path)
}

func logRPC(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil {
		log.Printf("%s: %v", info.FullMethod, err)
	}
	return resp, err
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ldate | log.Ltime | log.Lmicroseconds)
	if *endpoint == "" {
		log.Fatal("--endpoint is required")
	}
	*endpoint = strings.TrimPrefix(*endpoint, "unix://")
	d := &driver{volumes: map[string]*volume{}}
	srv := grpc.NewServer(grpc.UnaryInterceptor(logRPC))
	csi.RegisterIdentityServer(srv, d)
	csi.RegisterControllerServer(srv, d)
	if *nodeID != "" {
		csi.RegisterNodeServer(srv, d)
	}
	l, err := listen(*endpoint)
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(srv.Serve(l)) }()

	var reg *grpc.Server
	var regSock string
	if *regDir != "" {
		regSock = filepath.Join(*regDir, *driverName+"-reg.sock")
		rl, err := listen(regSock)
		if err != nil {
			log.Fatal(err)
		}
		reg = grpc.NewServer()
		registerapi.RegisterRegistrationServer(reg, registration{})
		go func() { log.Fatal(reg.Serve(rl)) }()
	}
	log.Printf("pvd-csi %s serving %s on %s (node %q, zone %q)", version, *driverName, *endpoint, *nodeID, *nodeZone)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	// Removing the registration socket first tells the kubelet the plugin is gone.
	if reg != nil {
		reg.Stop()
		os.Remove(regSock)
	}
	srv.Stop()
	os.Remove(*endpoint)
}
