package goipc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
	"github.com/seed-fc4a2f4b/goipc/unix"
)

// guardedServer starts an echo server with opts and reports why each
// connection closed.
func guardedServer(t *testing.T, codec Codec, opts ...Option) (*Server, chan error) {
	t.Helper()
	srv := echoServer(t, "unix://"+shortTempDir(t)+"/g.sock", codec, opts...)
	closed := make(chan error, 8)
	srv.OnDisconnect(func(c *Conn, err error) { closed <- err })
	return srv, closed
}

func expectClosed(t *testing.T, closed chan error, want error) {
	t.Helper()
	select {
	case err := <-closed:
		if !errors.Is(err, want) {
			t.Fatalf("connection closed with %v, want %v", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("connection not closed (want %v)", want)
	}
}

// Lifecycle names from the wire close the sender's connection under the
// guarded profile, in both event modes; the other clients carry on.
func TestGuardedRejectsReservedNames(t *testing.T) {
	for _, codec := range []Codec{EventCodec(), JSONCodec()} {
		srv, closed := guardedServer(t, codec, WithProfile(ProfileGuarded))
		good, r := dialRecv(t, srv.Addr(), codec)
		bad, _ := dialRecv(t, srv.Addr(), codec)
		if err := bad.Emit("connect", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		expectClosed(t, closed, frame.ErrReservedType)
		checkEcho(t, good, r, codec, [][]byte{[]byte(`"still here"`)})
	}
}

// The default profile treats those names as ordinary events.
func TestDefaultProfileDeliversReservedNames(t *testing.T) {
	srv, _ := guardedServer(t, EventCodec())
	cl, r := dialRecv(t, srv.Addr(), EventCodec())
	if err := cl.Emit("connect", []byte("x")); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "the echo", func() bool { return len(r.msgs) == 1 })
	if r.msgs[0].Event != "connect" {
		t.Fatalf("got %q", r.msgs[0].Event)
	}
}

func TestAllowList(t *testing.T) {
	srv, closed := guardedServer(t, EventCodec(), WithAllowedEvents("ping"))
	cl, r := dialRecv(t, srv.Addr(), EventCodec())
	if err := cl.Emit("ping", []byte("1")); err != nil {
		t.Fatal(err)
	}
	r.wait(t, 5*time.Second, "the allowed event's echo", func() bool { return len(r.msgs) == 1 })
	if err := cl.Emit("other", []byte("2")); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, closed, ErrEventNotAllowed)
}

func TestGuardedLimits(t *testing.T) {
	srv, closed := guardedServer(t, EventCodec(), WithProfile(ProfileGuarded))
	cl, _ := dialRecv(t, srv.Addr(), EventCodec().WithMaxFrame(4<<20))
	// Event names: 128 bytes pass, 129 close the connection.
	name := strings.Repeat("n", 129)
	if err := cl.Emit(name, nil); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, closed, frame.ErrNameTooLong)
	// Frames: the guarded maximum is 1 MiB.
	cl2, _ := dialRecv(t, srv.Addr(), EventCodec().WithMaxFrame(4<<20))
	if err := cl2.Emit("big", make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	expectClosed(t, closed, frame.ErrFrameTooLarge)
	// Explicit options still win over the profile.
	srv2, _ := guardedServer(t, EventCodec().WithMaxFrame(4<<20), WithProfile(ProfileGuarded), WithMaxEventName(200))
	cl3, r3 := dialRecv(t, srv2.Addr(), EventCodec().WithMaxFrame(4<<20))
	if err := cl3.Emit(name, make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	r3.wait(t, 5*time.Second, "the echo of a 2 MiB message", func() bool { return len(r3.msgs) == 1 })
}

func TestPeerCredentials(t *testing.T) {
	me := uint32(os.Getuid())
	// Someone else's uid only: we are refused.
	srv, _ := guardedServer(t, EventCodec(), WithPeerCredentials([]uint32{me + 12345}, nil))
	nc := rawDial(t, srv.Addr())
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err == nil {
		t.Fatal("peer with a uid off the list was served")
	}
	if n := len(srv.Conns()); n != 0 {
		t.Fatalf("%d connections open", n)
	}
	// Our uid: served.
	srv2, _ := guardedServer(t, EventCodec(), WithPeerCredentials([]uint32{me}, nil))
	cl, r := dialRecv(t, srv2.Addr(), EventCodec())
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("me")})
}

func TestAssuredProfile(t *testing.T) {
	assured := WithProfile(ProfileAssured)
	if _, err := Listen("tcp://127.0.0.1:0", assured); !errors.Is(err, ErrProfile) {
		t.Fatalf("assured tcp:// server: %v", err)
	}
	if _, err := NewClient("udp://127.0.0.1:9", assured); !errors.Is(err, ErrProfile) {
		t.Fatalf("assured udp:// client: %v", err)
	}
	pki := newPKI(t, "CA")
	scert, skey := pki.issue(t, "server")
	if _, err := Listen("tls://127.0.0.1:0", assured, WithTLS(tlsconn.Config{CertFile: scert, KeyFile: skey})); !errors.Is(err, ErrProfile) {
		t.Fatalf("assured TLS server without a client CA: %v", err)
	}
	srv := echoServer(t, "tls://127.0.0.1:0", EventCodec(), assured, WithTLS(tlsconn.Config{CertFile: scert, KeyFile: skey, CAFile: pki.caFile}))
	if _, err := NewClient(srv.Addr(), assured, WithTLS(tlsconn.Config{CAFile: pki.caFile})); !errors.Is(err, ErrProfile) {
		t.Fatalf("assured client without a certificate: %v", err)
	}
	ccert, ckey := pki.issue(t, "client")
	cl, r := dialRecv(t, srv.Addr(), EventCodec(), assured, WithTLS(tlsconn.Config{CAFile: pki.caFile, CertFile: ccert, KeyFile: ckey}))
	checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("mutual")})

	// Unix sockets: an owner-only directory is required…
	open := filepath.Join(shortTempDir(t), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen("unix://"+open+"/s.sock", assured); !errors.Is(err, unix.ErrUnsafeRoot) {
		t.Fatalf("assured socket in a 0755 directory: %v", err)
	}
	// …and by default only our own uid may connect.
	private := filepath.Join(shortTempDir(t), "private")
	usrv := echoServer(t, "unix://"+private+"/s.sock", EventCodec(), assured)
	ucl, ur := dialRecv(t, usrv.Addr(), EventCodec())
	checkEcho(t, ucl, ur, EventCodec(), [][]byte{[]byte("same uid")})
	if fi, err := os.Stat(private); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory %v %v", fi.Mode().Perm(), err)
	}
}
