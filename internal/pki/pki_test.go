package pki

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

func TestIssueVerifies(t *testing.T) {
	ca, err := NewCA(t.TempDir(), "test CA")
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := ca.Issue("server")
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	pem, _ := os.ReadFile(ca.File)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("CA file holds no certificate")
	}
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "server"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
