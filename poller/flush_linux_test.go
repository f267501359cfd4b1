//go:build linux

package poller

import (
	"bufio"
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// goConnOf returns the goroutine-engine transport of c.
func goConnOf(t *testing.T, c *Conn) *goConn {
	t.Helper()
	g, ok := c.tr.(*goConn)
	if !ok || g.sock == nil {
		t.Fatalf("not a goroutine-engine connection with raw socket I/O: %T", c.tr)
	}
	return g
}

// The replies a goroutine-engine reader's handlers send are written by
// the reader at the end of its input: many rounds of a batch of requests
// each get all their replies, and no writer goroutine ever starts. Over
// Unix and TCP sockets.
func TestGoEngineReaderFlushes(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			_, sc, cc := sockPair(t, network)
			c := goEngineConn(t, Config{Codec: codec}, echo{codec}, sc)
			var batch []byte
			for i := range 64 {
				batch, _ = codec.Append(batch, []byte{byte(i), 'x', 'y', 'z'})
			}
			got := make([]byte, len(batch))
			cc.SetDeadline(time.Now().Add(20 * time.Second))
			for round := range 200 {
				if _, err := cc.Write(batch); err != nil {
					t.Fatal(err)
				}
				if _, err := io.ReadFull(cc, got); err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if !bytes.Equal(got, batch) {
					t.Fatalf("round %d: the replies differ from the requests", round)
				}
			}
			if n := goConnOf(t, c).writers.Load(); n != 0 {
				t.Fatalf("%d writer goroutines started; the reader should have written every reply", n)
			}
		})
	}
}

// The reader never waits for room in the socket: a peer that writes 8 MiB
// of requests before it reads a reply gets them all echoed (were the
// reader to wait to write, the peer would wait for it to read, and it for
// the peer). A writer goroutine takes over the flush where the socket is
// full, and the replies arrive whole and in order.
func TestGoEngineReaderFlushFullSocket(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	cc, sc := unixPair(t)
	c := goEngineConn(t, Config{Codec: codec}, echo{codec}, sc)
	const frames, size = 128, 64 << 10
	var sent []byte
	p := make([]byte, size)
	for i := range frames {
		p[0], p[size-1] = byte(i), byte(i>>8)
		sent, _ = codec.Append(sent, p)
	}
	cc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := cc.Write(sent); err != nil { // all of it before reading anything
		t.Fatalf("writing the requests (the reader waited to write?): %v", err)
	}
	got := make([]byte, len(sent))
	if _, err := io.ReadFull(cc, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) {
		t.Fatal("the replies differ from the requests")
	}
	if n := goConnOf(t, c).writers.Load(); n == 0 {
		t.Fatal("no writer goroutine took over, yet the socket was full")
	}
}

// A handler that writes more than the queue holds, under PolicyBlock,
// waits for room while its reader holds the flush back: the wait hands
// the flush to a writer goroutine, so the handler's writes all succeed and
// arrive, long before the block timeout.
func TestGoEngineHandlerWaitsForRoom(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	const frames, size = 256, 4 << 10
	var herr atomic.Pointer[error]
	h := &funcHandler{frame: func(c *Conn, _ []byte) error {
		p := make([]byte, size)
		for i := range frames {
			p[0] = byte(i)
			b, err := c.Begin(size + 4)
			if err != nil {
				herr.Store(&err)
				return err
			}
			b, _ = codec.Append(b, p)
			c.Commit(b)
		}
		return nil
	}}
	cfg := Config{Codec: codec, MaxPending: 64 << 10, Policy: PolicyBlock, BlockTimeout: time.Minute}
	cc, sc := unixPair(t)
	goEngineConn(t, cfg, h, sc)
	req, _ := codec.Append(nil, []byte("go"))
	cc.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := cc.Write(req); err != nil {
		t.Fatal(err)
	}
	dec := frame.NewDecoder(bufio.NewReader(cc), codec)
	for i := range frames {
		p, err := dec.Next()
		if err != nil {
			if e := herr.Load(); e != nil {
				t.Fatalf("frame %d: %v; the handler's write failed: %v", i, err, *e)
			}
			t.Fatalf("frame %d: %v (the handler waited for room that nobody made?)", i, err)
		}
		if len(p) != size || p[0] != byte(i) {
			t.Fatalf("frame %d: %d bytes, first %d", i, len(p), p[0])
		}
	}
	if e := herr.Load(); e != nil {
		t.Fatalf("the handler's write failed: %v", *e)
	}
}

// funcHandler runs frame for each frame.
type funcHandler struct {
	frame func(c *Conn, p []byte) error
}

func (h *funcHandler) OnOpen(*Conn)                    {}
func (h *funcHandler) OnFrame(c *Conn, p []byte) error { return h.frame(c, p) }
func (h *funcHandler) OnClose(*Conn, error)            {}
