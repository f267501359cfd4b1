package goipc

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/poller"
)

func TestWithSocketMode(t *testing.T) {
	path := filepath.Join(shortTempDir(t), "s.sock")
	echoServer(t, "unix://"+path, EventCodec(), WithSocketMode(0o660))
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode %v, %v; want 0660", fi.Mode().Perm(), err)
	}
}

// Either engine can be forced, and both serve.
func TestWithEngine(t *testing.T) {
	for _, e := range []Engine{EngineLoop, EngineGoroutine} {
		srv := echoServer(t, "unix://"+shortTempDir(t)+"/e.sock", EventCodec(), WithEngine(e))
		_, isGo := srv.engine.(*poller.GoEngine)
		if isGo != (e == EngineGoroutine) {
			t.Fatalf("engine %d: got %T", e, srv.engine)
		}
		cl, r := dialRecv(t, srv.Addr(), EventCodec())
		checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte("engine")})
	}
}

// A UDP server keeps at most WithMaxPeers peers, forgetting the least
// recently heard first.
func TestWithMaxPeers(t *testing.T) {
	srv := echoServer(t, "udp://127.0.0.1:0", EventCodec(), WithMaxPeers(2))
	for i := range 3 {
		cl, r := dialRecv(t, srv.Addr(), EventCodec())
		checkEcho(t, cl, r, EventCodec(), [][]byte{[]byte{byte(i)}})
	}
	if n := srv.udp.peers.Len(); n != 2 {
		t.Fatalf("%d peers known, want 2", n)
	}
	if n := len(srv.Conns()); n > 2 {
		t.Fatalf("%d peer conns, want at most 2", n)
	}
}

// recordingHandler keeps the slog records it gets.
type recordingHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	h.mu.Lock()
	h.recs = append(h.recs, b.String())
	h.mu.Unlock()
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func (h *recordingHandler) all() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.recs, "\n")
}

// Diagnostics go to the logger given, and never carry payload bytes.
func TestWithLogger(t *testing.T) {
	h := &recordingHandler{}
	srv := echoServer(t, "unix://"+shortTempDir(t)+"/l.sock", EventCodec(),
		WithLogger(slog.New(h)), WithMaxConns(1), WithAllowedEvents("ok"))
	closed := make(chan error, 2)
	srv.OnDisconnect(func(c *Conn, err error) { closed <- err })
	cl, _ := dialRecv(t, srv.Addr(), EventCodec())
	cl.Emit("secret-event", []byte("SECRET-PAYLOAD"))
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
	rawDial(t, srv.Addr()) // fills the single slot…
	extra := rawDial(t, srv.Addr())
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	extra.Read(make([]byte, 1)) // …so this one is refused, with a warning
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.all(), "too many connections") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning logged; got:\n%s", h.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if strings.Contains(h.all(), "SECRET-PAYLOAD") {
		t.Fatalf("a payload reached the log:\n%s", h.all())
	}
}
