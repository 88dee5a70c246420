// Command pvdhelper is the pv-doctor test harness's small helper, built next to
// the Kubernetes binaries by test/cluster/build.sh. It needs only the Go
// standard library, so the harness depends on neither openssl nor anything else.
//
//	pvdhelper pki DIR
//	    Create DIR/ca.{crt,key}, DIR/serving.{crt,key} (127.0.0.1/localhost),
//	    DIR/sa.{key,pub} and the client certs admin, kube-controller-manager and
//	    kube-scheduler (DIR/<name>.{crt,key}). Existing files are kept.
//	pvdhelper client DIR NAME CN [GROUP...]
//	    Create DIR/NAME.{crt,key}: a client cert for user CN (organisations =
//	    groups) signed by DIR/ca.{crt,key}.
//	pvdhelper supervise -- CMD [ARG...]
//	    Run CMD and make sure it never outlives the process that started us:
//	    SIGTERM/SIGINT are forwarded; when our parent dies (we get reparented)
//	    CMD gets SIGTERM, then SIGKILL after 5 s; if we are SIGKILLed ourselves,
//	    the kernel SIGKILLs CMD (Pdeathsig). Exits with CMD's status.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "pki":
		if len(os.Args) != 3 {
			usage()
		}
		err = makePKI(os.Args[2])
	case "client":
		if len(os.Args) < 5 {
			usage()
		}
		var ca *authority
		if ca, err = loadCA(os.Args[2]); err == nil {
			err = ca.issue(os.Args[2], os.Args[3], pkix.Name{CommonName: os.Args[4], Organization: os.Args[5:]}, false)
		}
	case "supervise":
		args := os.Args[2:]
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			usage()
		}
		os.Exit(supervise(args))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pvdhelper:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: pvdhelper pki DIR | client DIR NAME CN [GROUP...] | supervise -- CMD [ARG...]")
	os.Exit(2)
}

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	return k, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	return n.Add(n, big.NewInt(1))
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func writeKeyPair(dir, name string, certDER, keyPEM []byte) error {
	if err := os.WriteFile(filepath.Join(dir, name+".key"), keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o644)
}

func makePKI(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !exists(filepath.Join(dir, "ca.crt")) {
		key, keyPEM, err := newKey()
		if err != nil {
			return err
		}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber:          serial(),
			Subject:               pkix.Name{CommonName: "pv-doctor-test-ca"},
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
			BasicConstraintsValid: true,
			IsCA:                  true,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			return err
		}
		if err := writeKeyPair(dir, "ca", der, keyPEM); err != nil {
			return err
		}
	}
	ca, err := loadCA(dir)
	if err != nil {
		return err
	}
	if !exists(filepath.Join(dir, "serving.crt")) {
		if err := ca.issue(dir, "serving", pkix.Name{CommonName: "kube-apiserver"}, true); err != nil {
			return err
		}
	}
	clients := []struct {
		file string
		name pkix.Name
	}{
		{"admin", pkix.Name{CommonName: "pv-doctor-admin", Organization: []string{"system:masters"}}},
		// Bootstrap RBAC covers the scheduler's own identity. The controller manager
		// runs without --use-service-account-credentials, so its single identity
		// needs every controller's rights: give it system:masters.
		{"kube-controller-manager", pkix.Name{CommonName: "system:kube-controller-manager", Organization: []string{"system:masters"}}},
		{"kube-scheduler", pkix.Name{CommonName: "system:kube-scheduler"}},
	}
	for _, c := range clients {
		if !exists(filepath.Join(dir, c.file+".crt")) {
			if err := ca.issue(dir, c.file, c.name, false); err != nil {
				return err
			}
		}
	}
	if !exists(filepath.Join(dir, "sa.key")) {
		k, keyPEM, err := newKey()
		if err != nil {
			return err
		}
		pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "sa.key"), keyPEM, 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "sa.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func loadCA(dir string) (*authority, error) {
	cb, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, err
	}
	cp, _ := pem.Decode(cb)
	kp, _ := pem.Decode(kb)
	if cp == nil || kp == nil {
		return nil, errors.New("bad PEM in " + dir)
	}
	cert, err := x509.ParseCertificate(cp.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParseECPrivateKey(kp.Bytes)
	if err != nil {
		return nil, err
	}
	return &authority{cert, key}, nil
}

func (ca *authority) issue(dir, file string, name pkix.Name, server bool) error {
	key, keyPEM, err := newKey()
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      name,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tmpl.DNSNames = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return err
	}
	return writeKeyPair(dir, file, der, keyPEM)
}

func supervise(args []string) int {
	parent := os.Getppid()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	// Pdeathsig is tied to the OS thread that forks the child: pin it.
	runtime.LockOSThread()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "pvdhelper supervise:", err)
		return 127
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	terminate := func(why string) {
		fmt.Fprintf(os.Stderr, "pvdhelper supervise: %s: stopping pid %d\n", why, cmd.Process.Pid)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		go func() {
			time.Sleep(5 * time.Second)
			_ = cmd.Process.Kill()
		}()
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	stopping := false
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal())
				}
				return ee.ExitCode()
			}
			if err != nil {
				return 1
			}
			return 0
		case s := <-sigs:
			if !stopping {
				stopping = true
				terminate("got " + s.String())
			}
		case <-tick.C:
			if !stopping && os.Getppid() != parent {
				stopping = true
				terminate("parent process died")
			}
		}
	}
}
