//go:build !race && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package poller

import (
	"net"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// countFrames signals once every `every` frames.
type countFrames struct {
	n, every int
	ch       chan struct{}
}

func (h *countFrames) OnOpen(c *Conn) {}
func (h *countFrames) OnFrame(c *Conn, p []byte) error {
	if h.n++; h.n%h.every == 0 {
		h.ch <- struct{}{}
	}
	return nil
}
func (h *countFrames) OnClose(c *Conn, err error) {}

// Frames larger than the loop's read buffer take several reads each; the
// bytes a read leaves in an incomplete frame are carried in a pooled
// chunk, so receiving them allocates nothing once warm (gnet's own Peek
// allocated for frames that wrapped its ring buffer). Frames that do fit
// arrive split across reads as well, at every offset.
func TestAllocsLoopLargeFrames(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: 1 << 20})
	for _, size := range []int{64 << 10, 100 << 10, 3000} {
		h := &countFrames{every: 16, ch: make(chan struct{}, 1)}
		e, err := NewLoopEngine(Config{Codec: codec}, h, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		nc, err := net.Dial("unix", serve(t, "unix", e).String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		var stream []byte
		for range h.every {
			stream, _ = codec.Append(stream, make([]byte, size))
		}
		timer := time.NewTimer(time.Hour)
		round := func() {
			if _, err := nc.Write(stream); err != nil {
				t.Fatal(err)
			}
			timer.Reset(10 * time.Second)
			select {
			case <-h.ch:
				timer.Stop()
			case <-timer.C:
				t.Fatalf("%d B: timed out", size)
			}
		}
		for range 20 {
			round()
		}
		if n := testing.AllocsPerRun(50, round); n != 0 {
			t.Errorf("%d B frames: %.2f allocations per %d frames, want 0", size, n, h.every)
		}
	}
}
