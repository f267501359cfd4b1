package poller

import (
	"bytes"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// echo writes every frame back to its sender.
type echo struct{ codec frame.Codec }

func (h echo) OnOpen(c *Conn) {}
func (h echo) OnFrame(c *Conn, p []byte) error {
	b, err := c.Begin(len(p) + 16)
	if err != nil {
		return err
	}
	b, err = h.codec.Append(b, p)
	if err != nil {
		c.Abort()
		return err
	}
	c.Commit(b)
	return nil
}
func (h echo) OnClose(c *Conn, err error) {}

// opener hands each new connection to the test.
type opener struct{ conns chan *Conn }

func (h opener) OnOpen(c *Conn)                  { h.conns <- c }
func (h opener) OnFrame(c *Conn, p []byte) error { return nil }
func (h opener) OnClose(c *Conn, err error)      {}

// collector gathers frames and closes.
type collector struct {
	mu     sync.Mutex
	frames [][]byte
	got    chan struct{}
	closed chan error
}

func newCollector() *collector {
	return &collector{got: make(chan struct{}, 1<<16), closed: make(chan error, 1)}
}
func (h *collector) OnOpen(c *Conn) {}
func (h *collector) OnFrame(c *Conn, p []byte) error {
	h.mu.Lock()
	h.frames = append(h.frames, bytes.Clone(p))
	h.mu.Unlock()
	h.got <- struct{}{}
	return nil
}
func (h *collector) OnClose(c *Conn, err error) { h.closed <- err }

func engines(t *testing.T, cfg Config, h Handler) map[string]Engine {
	le, err := NewServerEngine(cfg, h, 2)
	if err != nil {
		t.Fatal(err)
	}
	ge, err := NewGoEngine(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { le.Close(); ge.Close() })
	return map[string]Engine{"loop": le, "goroutine": ge}
}

func serve(t *testing.T, network string, e Engine) net.Addr {
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = t.TempDir() + "/s.sock"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			if _, err := e.Add(nc); err != nil {
				t.Error(err)
			}
		}
	}()
	return ln.Addr()
}

func TestEchoRoundTrip(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: 2 << 20})
	cfg := Config{Codec: codec, PartialTimeout: -1}
	for name, srv := range engines(t, cfg, echo{codec}) {
		for _, network := range []string{"unix", "tcp"} {
			t.Run(name+"/"+network, func(t *testing.T) {
				addr := serve(t, network, srv)
				col := newCollector()
				cli, err := NewGoEngine(cfg, col)
				if err != nil {
					t.Fatal(err)
				}
				defer cli.Close()
				nc, err := net.Dial(network, addr.String())
				if err != nil {
					t.Fatal(err)
				}
				c, err := cli.Add(nc)
				if err != nil {
					t.Fatal(err)
				}
				sizes := []int{0, 1, 64, 64 << 10, 1 << 20, 5}
				for i, n := range sizes {
					p := bytes.Repeat([]byte{byte(i + 1)}, n)
					w, _ := codec.Append(nil, p)
					if err := c.Write(w); err != nil {
						t.Fatal(err)
					}
				}
				deadline := time.After(10 * time.Second)
				for range sizes {
					select {
					case <-col.got:
					case <-deadline:
						t.Fatalf("timed out with %d frames", len(col.frames))
					}
				}
				for i, n := range sizes {
					if len(col.frames[i]) != n || (n > 0 && col.frames[i][0] != byte(i+1)) {
						t.Fatalf("frame %d: %d bytes", i, len(col.frames[i]))
					}
				}
				c.Close()
				select {
				case err := <-col.closed:
					if err != nil {
						t.Fatalf("close: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("close did not finish")
				}
			})
		}
	}
}

func TestManyWriters(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	cfg := Config{Codec: codec, RingSize: 4096}
	srv, err := NewServerEngine(cfg, echo{codec}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addr := serve(t, "tcp", srv)
	col := newCollector()
	cli, _ := NewGoEngine(cfg, col)
	defer cli.Close()
	nc, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cli.Add(nc)
	const writers, per = 20, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				f, _ := codec.Append(nil, fmt.Appendf(nil, "%d:%d", w, i))
				for c.Write(f) == ErrBackpressure {
					time.Sleep(time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.After(20 * time.Second)
	for range writers * per {
		select {
		case <-col.got:
		case <-deadline:
			t.Fatalf("timed out at %d frames", len(col.frames))
		}
	}
	next := make([]int, writers)
	for _, f := range col.frames {
		var w, i int
		fmt.Sscanf(string(f), "%d:%d", &w, &i)
		if i != next[w] {
			t.Fatalf("writer %d: got %d, want %d", w, i, next[w])
		}
		next[w]++
	}
}
