//go:build linux

package poller

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// An idle connection of the goroutine engine holds no read buffer: once
// its input is handled, the buffer is back on the engine's free list, and
// the next frame still arrives (through a buffer taken from the list).
func TestGoEngineIdleHoldsNoReadBuffer(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := newCollector()
	e, err := NewGoEngine(Config{Codec: codec}, h)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cc, err := net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Add(sc); err != nil {
		t.Fatal(err)
	}
	free := func() int {
		e.bmu.Lock()
		defer e.bmu.Unlock()
		return len(e.bufs)
	}
	waitFree := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for free() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d free read buffers, want %d", free(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	for i, msg := range []string{"one", "two", "three"} {
		f, _ := codec.Append(nil, []byte(msg))
		if _, err := cc.Write(f); err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.got:
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %d not delivered", i)
		}
		// Idle again: the one buffer this connection used is free.
		waitFree(1)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.frames) != 3 || string(h.frames[2]) != "three" {
		t.Fatalf("frames %q", h.frames)
	}
}
