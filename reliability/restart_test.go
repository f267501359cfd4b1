//go:build linux

package reliability

import (
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

// A server process killed with SIGKILL leaves its socket file behind; a
// new server on the same path reclaims it, and a client with retry and an
// outbox reconnects by itself and delivers, exactly once and in order, the
// messages it queued while the server was gone.
func TestServerKill9Restart(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "srv.sock")
	addr := "unix://" + path
	srv1 := startChild(t, "serve", addr)
	srv1.line(t, 30*time.Second, "ready ")

	var disconnects atomic.Int32
	cl := dialClient(t, addr, func(cl *goipc.Client) {
		cl.OnDisconnect(func(err error) { disconnects.Add(1) })
	}, goipc.WithRetry(10*time.Millisecond, goipc.Forever), goipc.WithOutbox(1024, 1<<20))

	const before, queued, after = 10, 50, 10
	for i := range before {
		if err := cl.Emit("m", body("before", i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range before {
		if l, want := srv1.line(t, 10*time.Second, "msg "), "msg m "+string(body("before", i, 20)); l != want {
			t.Fatalf("first server got %q, want %q", l, want)
		}
	}

	if err := srv1.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv1.done:
		if ws, ok := srv1.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("server exited with %v, not killed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("killed server did not exit")
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("stale socket file not left behind by kill -9: %v %v", fi, err)
	}
	// The client may have redialled into the dying server's listen
	// backlog before the kernel closed the listener; such a connection
	// dies too. Once the process is reaped nothing listens: wait until
	// every connection the client made has been seen to drop.
	waitUntil(t, 10*time.Second, "client to see every connection to the dead server drop", func() bool {
		return int64(disconnects.Load()) == cl.Connects() && !cl.Connected()
	})
	t.Logf("client saw the server die (%d connects, %d disconnects; a redial may land in the dying listener's backlog)", cl.Connects(), disconnects.Load())
	if c, err := net.Dial("unix", path); err == nil {
		c.Close()
		t.Fatalf("something still listens on %s after the kill", path)
	}
	for i := range queued {
		if err := cl.Emit("m", body("queued", i, 20)); err != nil {
			t.Fatalf("emit %d while the server is dead: %v", i, err)
		}
	}
	if n := cl.Outbox(); n != queued {
		t.Fatalf("outbox holds %d, want %d (connects %d, connected %v)", n, queued, cl.Connects(), cl.Connected())
	}

	reconnectsBefore := cl.Connects()
	srv2 := startChild(t, "serve", addr)
	srv2.line(t, 30*time.Second, "ready ") // it reclaimed the stale socket: Listen succeeded
	deadline := time.Now().Add(10 * time.Second)
	for cl.Connects() <= reconnectsBefore || cl.Outbox() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("client did not reconnect: %d connects, %d in the outbox, connected %v", cl.Connects(), cl.Outbox(), cl.Connected())
		}
		time.Sleep(time.Millisecond)
	}
	for i := range after {
		if err := cl.Emit("m", body("after", i, 20)); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for i := range queued {
		want = append(want, "msg m "+string(body("queued", i, 20)))
	}
	for i := range after {
		want = append(want, "msg m "+string(body("after", i, 20)))
	}
	for i, w := range want {
		if l := srv2.line(t, 10*time.Second, "msg "); l != w {
			t.Fatalf("restarted server, message %d: %q, want %q", i, l, w)
		}
	}
	// Nothing more (no duplicate) arrives: a sentinel is the next line.
	if err := cl.Emit("m", []byte(`"end"`)); err != nil {
		t.Fatal(err)
	}
	if l := srv2.line(t, 10*time.Second, "msg "); l != `msg m "end"` {
		t.Fatalf("after the expected messages: %q", l)
	}
	t.Logf("restarted server received all %d queued + %d later messages, in order, once", queued, after)
}
