package main

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

// Two clients each print three consecutive ticks.
func TestBroadcast(t *testing.T) {
	var srvOut syncBuffer
	srv, _ := startServer(t, "unix://"+shortTempDir(t)+"/b.sock", &srvOut, 5*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runClient(ctx, srv.Addr(), &outs[i], 3, 5*time.Second)
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		lines := strings.Split(strings.TrimSuffix(outs[i].String(), "\n"), "\n")
		if len(lines) != 4 || lines[0] != "connected to "+srv.Addr() {
			t.Fatalf("client %d printed\n%s", i, outs[i].String())
		}
		first := tickNumber(t, lines[1])
		for j, l := range lines[1:] {
			if got := tickNumber(t, l); got != first+j {
				t.Errorf("client %d: line %q, want tick %d\n%s", i, l, first+j, outs[i].String())
			}
		}
	}
	srvOut.waitFor(t, "both clients to leave", func(s string) bool {
		return strings.Count(s, " joined\n") == 2 && strings.Count(s, " left\n") == 2
	})
	if !strings.Contains(srvOut.String(), "tick 1: reached ") {
		t.Errorf("server printed no ticks:\n%s", srvOut.String())
	}
}

// A client printing ticks until interrupted notices the server stopping.
func TestBroadcastServerGone(t *testing.T) {
	srv, stop := startServer(t, "tcp://127.0.0.1:0", &syncBuffer{}, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- runClient(ctx, srv.Addr(), &out, 0, 5*time.Second) }()
	out.waitFor(t, "a tick", func(s string) bool { return strings.Contains(s, "tick ") })
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client did not notice the server stopping")
	}
	if s := out.String(); !strings.HasSuffix(s, "server went away\n") {
		t.Errorf("client printed\n%s", s)
	}
}

func tickNumber(t *testing.T, line string) int {
	t.Helper()
	s, ok := strings.CutPrefix(line, "tick ")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 1 {
		t.Fatalf("bad tick line %q", line)
	}
	return n
}

// startServer listens on addr and serves and ticks until stop is called
// or the test ends.
func startServer(t *testing.T, addr string, out *syncBuffer, interval time.Duration) (srv *goipc.Server, stop func()) {
	t.Helper()
	srv, err := listen(addr, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	ticking := make(chan struct{})
	go func() { defer close(ticking); tick(ctx, srv, out, interval) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Serve did not return")
			}
			<-ticking
		})
	}
	t.Cleanup(stop)
	return srv, stop
}

// shortTempDir keeps socket paths well under sun_path's 108 bytes.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "gx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// syncBuffer is an io.Writer safe from any goroutine that wakes waitFor
// on every write.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	notify chan struct{}
	once   sync.Once
}

func (s *syncBuffer) init() { s.once.Do(func() { s.notify = make(chan struct{}, 1) }) }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.init()
	s.mu.Lock()
	n, err := s.b.Write(p)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until cond holds for the output so far, at most 10 s.
func (s *syncBuffer) waitFor(t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	s.init()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond(s.String()) {
		select {
		case <-s.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, s.String())
		}
	}
}
