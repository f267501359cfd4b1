//go:build linux || darwin || freebsd

package unix

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestPeerCred(t *testing.T) {
	l := mustListen(t, filepath.Join(sockDir(t), "cred"), ListenOptions{})
	type res struct {
		c   Cred
		err error
	}
	resc := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			resc <- res{err: err}
			return
		}
		defer c.Close()
		cr, err := PeerCredConn(c)
		resc <- res{cr, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, l.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := <-resc
	if r.err != nil {
		t.Fatalf("server PeerCredConn: %v", r.err)
	}
	check := func(side string, cr Cred) {
		t.Helper()
		if cr.UID != uint32(os.Getuid()) || cr.GID != uint32(os.Getgid()) {
			t.Errorf("%s: cred %+v, want uid %d gid %d", side, cr, os.Getuid(), os.Getgid())
		}
		wantPID := int32(os.Getpid())
		if runtime.GOOS == "freebsd" {
			wantPID = -1
		}
		if cr.PID != wantPID {
			t.Errorf("%s: pid %d, want %d", side, cr.PID, wantPID)
		}
	}
	check("server", r.c)
	// The client side sees the server (also this process).
	cc, err := PeerCredConn(c)
	if err != nil {
		t.Fatalf("client PeerCredConn: %v", err)
	}
	check("client", cc)
}
