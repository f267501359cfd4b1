package poller

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// waitCond polls cond for up to 10 s.
func waitCond(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// nopHandler ignores everything.
type nopHandler struct{}

func (nopHandler) OnOpen(*Conn)                {}
func (nopHandler) OnFrame(*Conn, []byte) error { return nil }
func (nopHandler) OnClose(*Conn, error)        {}

// A goroutine-engine connection has a writer goroutine only while it has
// something to write: idle connections have their reader alone, a write
// starts a writer, and the writer ends once the queue is empty.
func TestGoEngineWriterOnlyWhileWriting(t *testing.T) {
	e, err := NewGoEngine(Config{}, nopHandler{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ln, err := net.Listen("unix", t.TempDir()+"/s.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 50
	peers := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			peers <- c
		}
	}()
	base := runtime.NumGoroutine()
	conns := make([]*Conn, n)
	for i := range conns {
		nc, err := net.Dial("unix", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if conns[i], err = e.Add(nc); err != nil {
			t.Fatal(err)
		}
	}
	// One reader each and nothing more (the accept loop is in base).
	waitCond(t, "one goroutine per idle connection", func() bool { return runtime.NumGoroutine()-base <= n })
	frame := []byte{0, 0, 0, 2, 'h', 'i'}
	for _, c := range conns {
		if err := c.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		p := <-peers
		defer p.Close()
		got := make([]byte, len(frame))
		p.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(p, got); err != nil || string(got) != string(frame) {
			t.Fatalf("peer read %q, %v", got, err)
		}
	}
	waitCond(t, "the writers to end", func() bool { return runtime.NumGoroutine()-base <= n })
	for _, c := range conns {
		if p := c.Pending(); p != 0 {
			t.Fatalf("%d bytes pending after the peer read everything", p)
		}
	}
}

// Writers that pause make the connection's writer end and start again many
// times; frames from each writer still arrive whole and in order, and none
// is lost. (Run with -race: two writers at once would race on the queue's
// flusher state.)
func TestGoEngineWriterRestarts(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	cc, sc := unixPair(t)
	c := goEngineConn(t, Config{Codec: codec}, nopHandler{}, sc)
	const writers, per = 4, 3000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 1))
			var p [8]byte
			for i := range per {
				binary.BigEndian.PutUint32(p[:4], uint32(w))
				binary.BigEndian.PutUint32(p[4:], uint32(i))
				f, _ := codec.Append(nil, p[:])
				if err := c.Write(f); err != nil {
					t.Error(err)
					return
				}
				switch r.IntN(64) {
				case 0:
					time.Sleep(time.Duration(r.IntN(200)) * time.Microsecond)
				case 1, 2, 3:
					runtime.Gosched()
				}
			}
		}()
	}
	next := make([]uint32, writers)
	dec := frame.NewDecoder(bufio.NewReader(cc), codec)
	cc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for range writers * per {
		p, err := dec.Next()
		if err != nil {
			t.Fatalf("after %v frames: %v", next, err)
		}
		w, i := binary.BigEndian.Uint32(p[:4]), binary.BigEndian.Uint32(p[4:])
		if i != next[w] {
			t.Fatalf("writer %d: frame %d, want %d", w, i, next[w])
		}
		next[w]++
	}
	wg.Wait()
}

// A graceful Close racing with writers on other goroutines: every write
// that succeeded reaches the peer, then the peer reads EOF; every write
// after the close fails with ErrClosed. Both engines.
func TestCloseRacingWriters(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	for name, e := range engines(t, Config{Codec: codec}, nopHandler{}) {
		t.Run(name, func(t *testing.T) {
			for round := range 20 {
				cc, sc := unixPair(t)
				c, err := e.Add(sc)
				if err != nil {
					t.Fatal(err)
				}
				var ok atomic.Int64
				var wg sync.WaitGroup
				f, _ := codec.Append(nil, []byte("0123456789abcdef"))
				for range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							err := c.Write(f)
							if err == nil {
								ok.Add(1)
								continue
							}
							if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrBackpressure) {
								t.Errorf("write: %v", err)
							}
							if errors.Is(err, ErrClosed) {
								return
							}
							time.Sleep(50 * time.Microsecond) // backpressure: let the flusher run
						}
					}()
				}
				done := make(chan int64, 1)
				go func() {
					dec := frame.NewDecoder(bufio.NewReader(cc), codec)
					var n int64
					for {
						if _, err := dec.Next(); err != nil {
							if err != io.EOF {
								t.Errorf("round %d: peer read: %v", round, err)
							}
							done <- n
							return
						}
						n++
					}
				}()
				for ok.Load() < int64(100+round*50) {
					runtime.Gosched()
				}
				c.Close()
				wg.Wait()
				cc.SetReadDeadline(time.Now().Add(10 * time.Second))
				if got := <-done; got != ok.Load() {
					t.Fatalf("round %d: peer read %d frames, %d writes succeeded", round, got, ok.Load())
				}
				cc.Close()
			}
		})
	}
}

// goEngineConn starts a goroutine engine for cfg and h, closed when the
// test ends, and adds srv, a connected socket, to it.
func goEngineConn(t *testing.T, cfg Config, h Handler, srv net.Conn) *Conn {
	t.Helper()
	e, err := NewGoEngine(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	c, err := e.Add(srv)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// unixPair returns the two ends of a connected Unix socket: the client's
// and the server's.
func unixPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("unix", t.TempDir()+"/p.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
