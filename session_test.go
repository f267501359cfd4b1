package goipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// cutProxy forwards TCP connections to a target and can cut them all.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close(); c.Close() }()
			go func() { io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut() })
	return p
}

func (p *cutProxy) addr() string { return "tcp://" + p.ln.Addr().String() }

// cut closes every connection through the proxy, wherever the frames in
// flight happen to be.
func (p *cutProxy) cut() {
	p.mu.Lock()
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // a reset: unsent bytes are dropped
		}
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

// Messages emitted by an exactly-once client arrive exactly once and in
// order although the connection is cut, mid-frame or not, again and again.
func TestExactlyOnceAcrossCuts(t *testing.T) {
	srv, err := Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []int
	progress := make(chan int, 1)
	srv.Handle("n", func(c *Conn, m Message) {
		i, err := strconv.Atoi(string(m.Data))
		if err != nil {
			t.Errorf("bad payload %q", m.Data)
		}
		mu.Lock()
		got = append(got, i)
		n := len(got)
		mu.Unlock()
		select {
		case progress <- n:
		default:
		}
	})
	startServer(t, srv)
	proxy := newCutProxy(t, srv.Addr()[len("tcp://"):])

	cl, err := NewClient(proxy.addr(), WithExactlyOnce(), WithRetry(2*time.Millisecond, Forever), WithOutbox(2000, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	const total = 20000
	sent := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(60 * time.Second)
		for i := 0; i < total; i++ {
			for {
				err := cl.Emit("n", []byte(strconv.Itoa(i)))
				if err == nil {
					break
				}
				if !errors.Is(err, ErrOutboxFull) && !errors.Is(err, ErrBackpressure) || time.Now().After(deadline) {
					sent <- fmt.Errorf("emit %d: %w", i, err)
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		sent <- nil
	}()
	// Cut the connection every time the server has taken another 1500.
	cuts := 0
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond) // progress notices may coalesce
	defer tick.Stop()
	for next := 1500; ; {
		select {
		case <-progress:
		case <-tick.C:
		case <-deadline:
			mu.Lock()
			t.Fatalf("timed out with %d of %d delivered after %d cuts", len(got), total, cuts)
		}
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= next && cuts < 10 {
			proxy.cut()
			cuts++
			next += 1500
		}
		if n >= total {
			break
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != total {
		t.Fatalf("%d delivered, want %d", len(got), total)
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("delivery %d is message %d: duplicated, lost or reordered", i, v)
		}
	}
	if cuts < 10 || cl.Connects() < 5 {
		t.Fatalf("only %d cuts, %d connects", cuts, cl.Connects())
	}
	t.Logf("%d messages exactly once across %d cuts (%d connections)", total, cuts, cl.Connects())
}
