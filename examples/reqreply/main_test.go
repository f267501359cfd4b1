package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

func TestReqReply(t *testing.T) {
	for _, addr := range []string{"unix://" + shortTempDir(t) + "/rr.sock", "tcp://127.0.0.1:0"} {
		scheme, _, _ := strings.Cut(addr, ":")
		t.Run(scheme, func(t *testing.T) {
			var srvOut syncBuffer
			srv := startServer(t, addr, &srvOut)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			if err := runClient(ctx, srv.Addr(), &out, []float64{1, 2, 3.5}, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			var v []float64
			jsonErr := json.Unmarshal([]byte(`"not an array"`), &v)
			want := "sum [1,2,3.5] = 6.5\n" +
				`sum "not an array": the handler failed: sum wants a JSON array of numbers: ` + jsonErr.Error() + "\n" +
				"product [1,2,3.5]: no handler on the server (goipc: remote error for product: no handler for event)\n"
			if out.String() != want {
				t.Errorf("client printed\n%s\nwant\n%s", out.String(), want)
			}
			// The server printed before replying.
			wantSrv := "sum [1,2,3.5] = 6.5\n" +
				`sum "not an array": bad request: ` + jsonErr.Error() + "\n"
			if got := srvOut.String(); got != wantSrv {
				t.Errorf("server printed\n%s\nwant\n%s", got, wantSrv)
			}
		})
	}
}

func TestReqReplyEmptyAndFractions(t *testing.T) {
	srv := startServer(t, "unix://"+shortTempDir(t)+"/rr.sock", &syncBuffer{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := goipc.Dial(ctx, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for req, want := range map[string]string{`[]`: "0", `[0.1,0.2]`: "0.30000000000000004", `[-1e3, 1e3, 7]`: "7"} {
		got, err := cl.Request(ctx, "sum", []byte(req))
		if err != nil || string(got) != want {
			t.Errorf("sum %s = %q, %v; want %s", req, got, err, want)
		}
	}
}

// A request nobody answers ends with the context's deadline.
func TestReqReplyTimeout(t *testing.T) {
	srv, err := listen("unix://"+shortTempDir(t)+"/rr.sock", &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("sum", func(c *goipc.Conn, m goipc.Message) {}) // never replies
	serveUntilCleanup(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = runClient(ctx, srv.Addr(), &bytes.Buffer{}, []float64{1}, 100*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

// startServer listens on addr and serves until the test ends.
func startServer(t *testing.T, addr string, out *syncBuffer) *goipc.Server {
	t.Helper()
	srv, err := listen(addr, out)
	if err != nil {
		t.Fatal(err)
	}
	serveUntilCleanup(t, srv)
	return srv
}

func serveUntilCleanup(t *testing.T, srv *goipc.Server) {
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
