package goipc

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/internal/pki"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
)

// testPKI is a CA and certificates made for one test (internal/pki):
// nothing checked in that could expire.
type testPKI struct {
	ca     *pki.CA
	caFile string
}

func newPKI(t testing.TB, name string) *testPKI {
	t.Helper()
	ca, err := pki.NewCA(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	return &testPKI{ca: ca, caFile: ca.File}
}

// issue makes a certificate for cn, valid for server and client
// authentication, with 127.0.0.1, ::1 and localhost as SANs.
func (p *testPKI) issue(t testing.TB, cn string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := p.ca.Issue(cn)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// tlsTransport is the conformance suite's mutual-TLS transport: both ends
// hold a certificate from the same CA.
func tlsTransport(name, host string) transport {
	return transport{name: name, addr: func(t *testing.T) (string, []Option) {
		pki := newPKI(t, "goipc test CA")
		cert, key := pki.issue(t, "peer")
		return "tls://" + host + ":0", []Option{WithTLS(tlsconn.Config{CertFile: cert, KeyFile: key, CAFile: pki.caFile})}
	}}
}

func TestTLSServerOnly(t *testing.T) {
	pki := newPKI(t, "CA")
	cert, key := pki.issue(t, "server")
	srv := echoServer(t, "tls://127.0.0.1:0", EventCodec(), WithTLS(tlsconn.Config{CertFile: cert, KeyFile: key}))
	cl, r := dialRecv(t, srv.Addr(), EventCodec(), WithTLS(tlsconn.Config{CAFile: pki.caFile}))
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("secret")})
	st, ok := cl.Conn().TLS()
	if !ok || !st.HandshakeComplete || st.Version < 0x0303 {
		t.Fatalf("TLS state %+v, %v", st, ok)
	}
}

func TestMutualTLS(t *testing.T) {
	pki := newPKI(t, "CA")
	other := newPKI(t, "other CA")
	scert, skey := pki.issue(t, "server")
	ccert, ckey := pki.issue(t, "alice")
	xcert, xkey := other.issue(t, "mallory")
	srv, err := Listen("tls://127.0.0.1:0", WithTLS(tlsconn.Config{CertFile: scert, KeyFile: skey, CAFile: pki.caFile}))
	if err != nil {
		t.Fatal(err)
	}
	who := make(chan string, 4)
	srv.Handle("whoami", func(c *Conn, m Message) {
		st, ok := c.TLS()
		if !ok || len(st.PeerCertificates) == 0 {
			m.ReplyError(errors.New("no client certificate"))
			return
		}
		cn := st.PeerCertificates[0].Subject.CommonName
		who <- cn
		m.Reply([]byte(cn))
	})
	startServer(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	good, err := Dial(ctx, srv.Addr(), WithTLS(tlsconn.Config{CAFile: pki.caFile, CertFile: ccert, KeyFile: ckey}))
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	if r, err := good.Request(ctx, "whoami", nil); err != nil || string(r) != "alice" {
		t.Fatalf("whoami: %q %v", r, err)
	}

	// No client certificate, and one from another CA: refused. With TLS 1.3
	// the client learns it on its first read, so try a request.
	for name, cfg := range map[string]tlsconn.Config{
		"no certificate":            {CAFile: pki.caFile},
		"certificate of another CA": {CAFile: pki.caFile, CertFile: xcert, KeyFile: xkey},
	} {
		cl, err := Dial(ctx, srv.Addr(), WithTLS(cfg))
		if err == nil {
			_, err = cl.Request(ctx, "whoami", nil)
			cl.Close()
		}
		if err == nil {
			t.Fatalf("%s: accepted", name)
		}
		t.Logf("%s: %v", name, err)
	}
	// The server keeps serving the good client.
	if r, err := good.Request(ctx, "whoami", nil); err != nil || string(r) != "alice" {
		t.Fatalf("whoami after rejections: %q %v", r, err)
	}
}

func TestTLSUnknownServerCA(t *testing.T) {
	pki := newPKI(t, "CA")
	other := newPKI(t, "other CA")
	cert, key := other.issue(t, "server")
	srv := echoServer(t, "tls://127.0.0.1:0", EventCodec(), WithTLS(tlsconn.Config{CertFile: cert, KeyFile: key}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, srv.Addr(), WithTLS(tlsconn.Config{CAFile: pki.caFile}))
	var uerr interface{ Unwrap() error }
	if err == nil || !errors.Is(err, tlsconn.ErrHandshake) {
		t.Fatalf("dial with an unknown server CA: %v (%T), want ErrHandshake", err, uerr)
	}
	// Wrong server name: refused too.
	_, err = Dial(ctx, srv.Addr(), WithTLS(tlsconn.Config{CAFile: other.caFile, ServerName: "not-the-server"}))
	if err == nil {
		t.Fatal("wrong server name accepted")
	}
	// The explicit development-only switch connects anyway.
	cl, err := Dial(ctx, srv.Addr(), WithTLS(tlsconn.Config{InsecureSkipVerifyDevelopmentOnly: true}))
	if err != nil {
		t.Fatal(err)
	}
	cl.Close()
}

// A peer that connects and never finishes its handshake does not hold up
// anyone else, and is dropped after the handshake timeout.
func TestTLSHandshakeDoesNotBlock(t *testing.T) {
	pki := newPKI(t, "CA")
	cert, key := pki.issue(t, "server")
	srv := echoServer(t, "tls://127.0.0.1:0", EventCodec(), WithTLS(tlsconn.Config{CertFile: cert, KeyFile: key, HandshakeTimeout: 200 * time.Millisecond}))
	stalled, err := net.Dial("tcp", strings.TrimPrefix(srv.Addr(), "tls://")) // TCP only: no handshake
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	cl, r := dialRecv(t, srv.Addr(), EventCodec(), WithTLS(tlsconn.Config{CAFile: pki.caFile}))
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("not blocked")})
	stalled.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := stalled.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("stalled handshake not dropped: %v", err)
	}
}

func TestTLSBadConfig(t *testing.T) {
	if _, err := Listen("tls://127.0.0.1:0"); !errors.Is(err, tlsconn.ErrConfig) {
		t.Fatalf("TLS server without a certificate: %v", err)
	}
	if _, err := Listen("tls://127.0.0.1:0", WithTLS(tlsconn.Config{CertFile: "/nonexistent", KeyFile: "/nonexistent"})); !errors.Is(err, tlsconn.ErrConfig) {
		t.Fatalf("missing files: %v", err)
	}
}
