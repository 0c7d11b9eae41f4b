package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	pem  []byte
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue makes a node certificate signed by ca, as PEM certificate and key.
func (ca *testCA) issue(t testing.TB, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// tlsFiles writes a node's certificate, key and the trusted CA to files
// and loads them with TLSConfig, as the iridium command does.
func tlsFiles(t testing.TB, issuer, trusted *testCA, name string) *tls.Config {
	t.Helper()
	dir := t.TempDir()
	certPEM, keyPEM := issuer.issue(t, name)
	paths := map[string][]byte{"node.crt": certPEM, "node.key": keyPEM, "ca.crt": trusted.pem}
	for file, data := range paths {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := TLSConfig(filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key"), filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestTLSClusterForms(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	ca := newTestCA(t, "cluster CA")
	var nodes []*testNode
	for _, alias := range []string{"a", "b", "c"} {
		cfg := testConfig(alias)
		cfg.TLS = tlsFiles(t, ca, ca, alias)
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	joinTo(t, nodes[2], nodes[0])
	waitFullMesh(t, nodes, 5*time.Second)
}

func TestTLSRefusesStrangers(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "cluster CA")
	rogue := newTestCA(t, "rogue CA")
	tests := []struct {
		name      string
		tls       func() *tls.Config
		dialerErr string
	}{
		{"certificate from another CA", func() *tls.Config { return tlsFiles(t, rogue, ca, "x") }, "tls"},
		{"trusting another CA", func() *tls.Config { return tlsFiles(t, ca, rogue, "x") }, "not from the cluster CA"},
		{"no TLS at all", func() *tls.Config { return nil }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			cfg := testConfig("a")
			cfg.TLS = tlsFiles(t, ca, ca, "a")
			a := startNode(t, cfg)
			cfg = testConfig("x")
			cfg.TLS = tt.tls()
			x := startNode(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := x.Join(ctx, a.host, a.port)
			if err == nil {
				t.Fatal("join succeeded")
			}
			if !strings.Contains(err.Error(), tt.dialerErr) {
				t.Errorf("error %q does not mention %q", err, tt.dialerErr)
			}
			testkit.Eventually(t, 3*time.Second, "a reports the refused connection", func() bool {
				_, ok := a.events.find(EventRefused, "")
				return ok
			})
			e, _ := a.events.find(EventRefused, "")
			t.Logf("joining side: %v\naccepting side: %v", err, e)
			if len(a.Members()) != 1 || len(x.Members()) != 1 {
				t.Errorf("members changed: %v / %v", a.Members(), x.Members())
			}
		})
	}
}

// TLS files are read only when regular and small: a FIFO in their place
// is refused at once rather than blocking the first cluster command.
func TestTLSConfigRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ca.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][3]string{{fifo, fifo, fifo}, {"/dev/zero", "/dev/zero", "/dev/zero"}} {
		done := make(chan error, 1)
		go func() { _, err := TLSConfig(args[0], args[1], args[2]); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "is a ") {
				t.Errorf("TLSConfig(%s): %v; want a refusal naming the kind of file", args[0], err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("TLSConfig(%s) still blocked after 5s", args[0])
		}
	}
}
