//go:build !race && linux

package poller

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// The goroutine engine's reader writing its handlers' replies at the end
// of its input allocates nothing: once warm, a round of 64 requests and
// their echoes makes 0 allocations, over Unix and TCP sockets, and no
// writer goroutine starts (so the path measured is the reader's).
func TestAllocsGoEngineReaderFlush(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			_, sc, cc := sockPair(t, network)
			c := goEngineConn(t, Config{Codec: codec}, echo{codec}, sc)
			var batch []byte
			for i := range 64 {
				batch, _ = codec.Append(batch, bytes.Repeat([]byte{byte(i)}, 64))
			}
			got := make([]byte, len(batch))
			cc.SetDeadline(time.Now().Add(30 * time.Second))
			round := func() {
				if _, err := cc.Write(batch); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(cc, got); err != nil {
					t.Fatal(err)
				}
			}
			for range 50 { // warm up: queue chunks, read buffers
				round()
			}
			if n := testing.AllocsPerRun(200, round); n != 0 {
				t.Errorf("%.2f allocations per round of 64 echoes, want 0", n)
			}
			if !bytes.Equal(got, batch) {
				t.Fatal("the echoes differ from the requests")
			}
			if n := goConnOf(t, c).writers.Load(); n != 0 {
				t.Fatalf("%d writer goroutines started: the rounds did not measure the reader's flush", n)
			}
		})
	}
}
