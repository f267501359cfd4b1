package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// sink is a target server that records every read it makes.
type sink struct {
	ln    net.Listener
	mu    sync.Mutex
	reads [][]byte
	data  []byte
	eof   chan error // one per connection: how it ended
	conns chan net.Conn
}

func newSink(t *testing.T, network string) *sink {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		d, err := os.MkdirTemp("", "fp")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		addr = filepath.Join(d, "t.sock")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln, eof: make(chan error, 16), conns: make(chan net.Conn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns <- c
			go func() {
				buf := make([]byte, 64<<10)
				for {
					n, err := c.Read(buf)
					if n > 0 {
						s.mu.Lock()
						s.reads = append(s.reads, bytes.Clone(buf[:n]))
						s.data = append(s.data, buf[:n]...)
						s.mu.Unlock()
					}
					if err != nil {
						s.eof <- err
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return s
}

func (s *sink) got() ([]byte, [][]byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.data), append([][]byte(nil), s.reads...)
}

// waitBytes waits until the sink holds n bytes.
func (s *sink) waitBytes(t *testing.T, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, _ := s.got()
		if len(d) >= n {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink has %d bytes, want %d", len(d), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func newProxy(t *testing.T, network string, s *sink) *Proxy {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(filepath.Dir(s.ln.Addr().String()), "p.sock")
	}
	p, err := New(network, addr, network, s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial(p.Addr().Network(), p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func forNets(t *testing.T, fn func(t *testing.T, network string)) {
	for _, n := range []string{"tcp", "unix"} {
		t.Run(n, func(t *testing.T) { fn(t, n) })
	}
}

func TestPassThroughBothWays(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		c := dial(t, p)
		msg := pattern(100 << 10)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if got := s.waitBytes(t, len(msg)); !bytes.Equal(got, msg) {
			t.Fatal("bytes changed on the way up")
		}
		tc := <-s.conns
		if _, err := tc.Write([]byte("down")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "down" {
			t.Fatalf("down: %q %v", buf, err)
		}
		if st := p.Stats(); st.Accepted != 1 || st.Bytes[Up] != int64(len(msg)) || st.Bytes[Down] != 4 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestSplitFixed(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		p.Split(Up, 3)
		c := dial(t, p)
		msg := pattern(1000)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		if got := s.waitBytes(t, len(msg)); !bytes.Equal(got, msg) {
			t.Fatal("bytes changed")
		}
		_, reads := s.got()
		for _, r := range reads {
			if len(r) > 3 && network == "unix" {
				// Unix stream sockets keep write boundaries only when the
				// reader keeps up; a longer read means coalescing, not a
				// bigger write, so this is informational.
				t.Logf("read of %d bytes (coalesced)", len(r))
				break
			}
		}
		if st := p.Stats(); st.Bytes[Up] != 1000 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// With a delay per chunk, each chunk arrives in a read of its own, so the
// target sees the chunk sizes exactly — and a seeded random split gives
// the same sizes every run.
func TestSplitRandomIsDeterministicAndDelayed(t *testing.T) {
	sizes := func() []int {
		s := newSink(t, "tcp")
		p := newProxy(t, "tcp", s)
		p.SplitRandom(Up, 16, 42)
		p.Delay(Up, 5*time.Millisecond)
		c := dial(t, p)
		msg := pattern(200)
		start := time.Now()
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		got := s.waitBytes(t, len(msg))
		if !bytes.Equal(got, msg) {
			t.Fatal("bytes changed")
		}
		_, reads := s.got()
		var out []int
		for _, r := range reads {
			if len(r) > 16 {
				t.Fatalf("read of %d bytes, chunks are at most 16", len(r))
			}
			out = append(out, len(r))
		}
		// 200 bytes in chunks of at most 16: at least 13 chunks, 5 ms each.
		if el := time.Since(start); el < 13*5*time.Millisecond {
			t.Fatalf("200 bytes took %v: delay not applied", el)
		}
		return out
	}
	a, b := sizes(), sizes()
	if len(a) != len(b) {
		t.Fatalf("chunk sizes differ between runs: %v vs %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("chunk sizes differ between runs: %v vs %v", a, b)
		}
	}
	t.Logf("chunks: %v", a)
}

func TestStallResume(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		c := dial(t, p)
		if _, err := c.Write([]byte("a")); err != nil {
			t.Fatal(err)
		}
		s.waitBytes(t, 1)
		p.Stall(Up)
		if !p.Stalled(Up) {
			t.Fatal("not stalled")
		}
		if _, err := c.Write([]byte("bcd")); err != nil {
			t.Fatal(err)
		}
		// Nothing may pass while stalled; give it time to (wrongly) pass.
		time.Sleep(50 * time.Millisecond)
		if d, _ := s.got(); len(d) != 1 {
			t.Fatalf("%d bytes passed a stall", len(d))
		}
		p.Resume(Up)
		if got := s.waitBytes(t, 4); string(got) != "abcd" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestStallAfterExactBytes(t *testing.T) {
	s := newSink(t, "unix")
	p := newProxy(t, "unix", s)
	c := dial(t, p)
	fired := p.StallAfter(Up, 5)
	if _, err := c.Write(pattern(20)); err != nil {
		t.Fatal(err)
	}
	<-fired
	time.Sleep(20 * time.Millisecond)
	if d, _ := s.got(); len(d) != 5 {
		t.Fatalf("%d bytes passed, want 5", len(d))
	}
	p.Resume(Up)
	if got := s.waitBytes(t, 20); !bytes.Equal(got, pattern(20)) {
		t.Fatal("bytes changed")
	}
}

func TestCutAfterExactBytes(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		c := dial(t, p)
		fired := p.CutAfter(Up, 7)
		if _, err := c.Write(pattern(20)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-fired:
		case <-time.After(5 * time.Second):
			t.Fatal("cut not fired")
		}
		select {
		case err := <-s.eof:
			if err != io.EOF {
				t.Fatalf("target saw %v, want EOF", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("target not closed")
		}
		if d, _ := s.got(); !bytes.Equal(d, pattern(7)) {
			t.Fatalf("target got %d bytes, want exactly 7", len(d))
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("client read %v, want EOF", err)
		}
		if p.Conns() != 0 {
			t.Fatalf("%d conns after cut", p.Conns())
		}
		// The proxy keeps serving new connections.
		c2 := dial(t, p)
		if _, err := c2.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		s.waitBytes(t, 8)
	})
}

func TestResetTCP(t *testing.T) {
	s := newSink(t, "tcp")
	p := newProxy(t, "tcp", s)
	c := dial(t, p)
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	s.waitBytes(t, 2)
	if n := p.Reset(); n != 1 {
		t.Fatalf("reset %d conns", n)
	}
	select {
	case err := <-s.eof:
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("target saw %v, want ECONNRESET", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("target not reset")
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read %v, want ECONNRESET", err)
	}
}

func TestResetAfterMidStream(t *testing.T) {
	s := newSink(t, "tcp")
	p := newProxy(t, "tcp", s)
	c := dial(t, p)
	fired := p.ResetAfter(Up, 3)
	c.Write(pattern(10))
	<-fired
	if err := <-s.eof; !errors.Is(err, syscall.ECONNRESET) && err != io.EOF {
		t.Fatalf("target saw %v", err)
	}
	if d, _ := s.got(); len(d) > 3 {
		t.Fatalf("target got %d bytes, at most 3 may pass", len(d))
	}
}

func TestCutNow(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		c1, c2 := dial(t, p), dial(t, p)
		c1.Write([]byte("1"))
		c2.Write([]byte("2"))
		s.waitBytes(t, 2)
		if n := p.Cut(); n != 2 {
			t.Fatalf("cut %d, want 2", n)
		}
		for _, c := range []net.Conn{c1, c2} {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatal("conn alive after cut")
			}
		}
	})
}

func TestRefuse(t *testing.T) {
	forNets(t, func(t *testing.T, network string) {
		s := newSink(t, network)
		p := newProxy(t, network, s)
		p.Refuse(true)
		// The reset may already fail the connect (TCP), else the first read.
		if c, err := net.Dial(network, p.Addr().String()); err == nil {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatal("refused conn readable")
			}
			c.Close()
		}
		if st := p.Stats(); st.Refused != 1 || st.Accepted != 0 {
			t.Fatalf("stats %+v", st)
		}
		p.Refuse(false)
		c2 := dial(t, p)
		c2.Write([]byte("ok"))
		s.waitBytes(t, 2)
	})
}

func TestClearAndDownDirection(t *testing.T) {
	s := newSink(t, "unix")
	p := newProxy(t, "unix", s)
	p.Split(Down, 1)
	p.Delay(Down, time.Millisecond)
	c := dial(t, p)
	c.Write([]byte("x"))
	s.waitBytes(t, 1)
	tc := <-s.conns
	tc.Write([]byte("hello"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("%q %v", buf, err)
	}
	p.Stall(Down)
	p.Clear()
	if p.Stalled(Down) {
		t.Fatal("Clear left a stall")
	}
	tc.Write([]byte("again"))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "again" {
		t.Fatalf("%q %v", buf, err)
	}
}

// Closing the proxy ends every goroutine it started.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newSink(t, "tcp")
	p, err := New("tcp", "127.0.0.1:0", "tcp", s.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var cs []net.Conn
	for range 10 {
		c, err := net.Dial("tcp", p.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	p.Stall(Up)
	for _, c := range cs {
		c.Write([]byte("stalled"))
	}
	p.Close()
	for _, c := range cs {
		c.Close()
	}
	s.ln.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > before+1 {
		t.Fatalf("%d goroutines after Close, %d before", g, before)
	}
}
