package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
)

// tlsOption turns the TLS flags into the library's option: --tls-cert and
// --tls-key are this end's certificate, --tls-ca the CA that verifies the
// peer (on a server: client certificates are then required), and
// --tls-server-name the name a client checks.
func tlsOption(t tlsFlags) (goipc.Option, error) {
	if (t.cert == "") != (t.key == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	return goipc.WithTLS(tlsconn.Config{CertFile: t.cert, KeyFile: t.key, CAFile: t.ca, ServerName: t.serverName}), nil
}

// benchTLS writes a throwaway CA and a server certificate for 127.0.0.1
// and localhost, valid for a day, into dir, and returns the server's and
// the client's TLS flags, for `bench --transports tls`.
func benchTLS(dir string) (server, client tlsFlags, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return server, client, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "goipc bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return server, client, err
	}
	ca, _ = x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return server, client, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return server, client, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return server, client, err
	}
	server = tlsFlags{cert: filepath.Join(dir, "server.pem"), key: filepath.Join(dir, "server-key.pem")}
	client = tlsFlags{ca: filepath.Join(dir, "ca.pem")}
	err = errors.Join(
		writePEM(server.cert, "CERTIFICATE", leafDER),
		writePEM(server.key, "PRIVATE KEY", keyDER),
		writePEM(client.ca, "CERTIFICATE", caDER),
	)
	return server, client, err
}

// writePEM writes one PEM block to a new owner-only file.
func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}
