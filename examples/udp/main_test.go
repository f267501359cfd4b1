package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

func TestUDP(t *testing.T) {
	var srvOut syncBuffer
	srv := startServer(t, "udp://127.0.0.1:0", &srvOut)
	if strings.HasSuffix(srv.Addr(), ":0") {
		t.Fatalf("Addr %s: port not resolved", srv.Addr())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runClient(ctx, srv.Addr(), &out, 3); err != nil {
		t.Fatal(err)
	}
	want := "sending to " + srv.Addr() + "\n" +
		"reply: hello 1 world!\n" +
		"reply: hello 2 world!\n" +
		"reply: hello 3 world!\n"
	if out.String() != want {
		t.Errorf("client printed\n%s\nwant\n%s", out.String(), want)
	}
	// The server printed before replying, so its output is complete.
	wantSrv := "new peer PEER\n" +
		"from PEER: hello 1\n" +
		"from PEER: hello 2\n" +
		"from PEER: hello 3\n"
	if got := peerRE.ReplaceAllString(srvOut.String(), "PEER"); got != wantSrv {
		t.Errorf("server printed\n%s\nwant\n%s", got, wantSrv)
	}
}

// With nobody listening, the client gives up when its context ends.
func TestUDPNoServer(t *testing.T) {
	srv, err := goipc.Listen("udp://127.0.0.1:0") // take a free port, then free it
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	err = runClient(ctx, addr, &out, 1)
	if err == nil || !strings.Contains(err.Error(), "no reply") {
		t.Fatalf("err = %v", err)
	}
}

var peerRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

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

// syncBuffer is an io.Writer safe from any goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
