package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

func TestEcho(t *testing.T) {
	for _, addr := range []string{"unix://" + shortTempDir(t) + "/echo.sock", "tcp://127.0.0.1:0"} {
		t.Run(strings.SplitN(addr, ":", 2)[0], func(t *testing.T) {
			var srvOut syncBuffer
			srv := startServer(t, addr, &srvOut)

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			if err := runClient(ctx, srv.Addr(), &out, 3); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("connected to %s\necho 1: hello\necho 2: hello\necho 3: hello\n", srv.Addr())
			if out.String() != want {
				t.Errorf("client printed\n%s\nwant\n%s", out.String(), want)
			}

			// The client has closed: the server reports the disconnect.
			srvOut.waitFor(t, "the disconnect", func(s string) bool { return strings.Contains(s, "disconnected") })
			re := regexp.MustCompile(`^client (\d+) connected\n(client (\d+): message "hello"\n){3}client (\d+) disconnected\n$`)
			if got := srvOut.String(); !re.MatchString(got) {
				t.Errorf("server printed\n%s", got)
			}
		})
	}
}

// Two clients at once each get their own echoes.
func TestEchoTwoClients(t *testing.T) {
	var srvOut syncBuffer
	srv := startServer(t, "unix://"+shortTempDir(t)+"/echo.sock", &srvOut)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = runClient(ctx, srv.Addr(), &outs[i], 5)
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil {
			t.Fatalf("client %d: %v", i, errs[i])
		}
		if n := strings.Count(outs[i].String(), ": hello\n"); n != 5 {
			t.Errorf("client %d got %d echoes:\n%s", i, n, outs[i].String())
		}
	}
}

func TestClientNoServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := runClient(ctx, "unix://"+shortTempDir(t)+"/nobody.sock", &out, 1)
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
}

// startServer listens on addr and serves until the test ends.
func startServer(t *testing.T, addr string, out *syncBuffer) *goipc.Server {
	t.Helper()
	srv, err := listen(addr, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return srv
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

// syncBuffer is an io.Writer for server output: safe from any goroutine,
// and it wakes waitFor on every write.
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
