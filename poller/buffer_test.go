package poller

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// WriteBuffer queues a buffer at least half full by taking its memory
// (buf.B comes back empty in new memory) and copies one less full or one
// that outgrew its memory (buf.B comes back empty in its own memory). Its
// frames arrive whole and in order, never interleaved with those of a
// writer on another goroutine, whichever way they were queued.
func TestWriteBuffer(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{})
	h := opener{make(chan *Conn, 1)}
	for name, e := range engines(t, Config{Codec: codec, RingSize: 4096}, h) {
		t.Run(name, func(t *testing.T) {
			addr := serve(t, "unix", e)
			cc, err := net.Dial("unix", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			select {
			case c := <-h.conns:
				testWriteBuffer(t, codec, c, cc)
			case <-time.After(10 * time.Second):
				t.Fatal("no connection")
			}
		})
	}
}

func testWriteBuffer(t *testing.T, codec *frame.LengthField, c *Conn, cc net.Conn) {
	// frames appends frames of (source, seq) to dst until it holds at
	// least n bytes.
	frames := func(dst []byte, src uint32, seq *uint32, n int) []byte {
		var p [8]byte
		for len(dst) < n {
			binary.BigEndian.PutUint32(p[:4], src)
			binary.BigEndian.PutUint32(p[4:], *seq)
			*seq++
			dst, _ = codec.Append(dst, p[:])
		}
		return dst
	}

	const rounds = 300
	var wg sync.WaitGroup
	var otherSeq uint32
	wg.Add(1)
	go func() { // the other writer: one frame at a time
		defer wg.Done()
		for range rounds * 4 {
			if err := c.Write(frames(nil, 1, &otherSeq, 1)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	buf := NewBuffer(4096)
	if cap(buf.B) != 4096 || len(buf.B) != 0 {
		t.Fatalf("NewBuffer(4096): len %d cap %d", len(buf.B), cap(buf.B))
	}
	var seq uint32
	for i := range rounds {
		mem := unsafe.SliceData(buf.B)
		var want string
		switch i % 3 {
		case 0: // more than half full: lent
			buf.B = frames(buf.B, 0, &seq, 2100)
			want = "new"
		case 1: // less than half: copied
			buf.B = frames(buf.B, 0, &seq, 100)
			want = "own"
		case 2: // outgrown, moved by append: copied
			buf.B = frames(buf.B, 0, &seq, 5000)
			want = "own"
		}
		if err := c.WriteBuffer(buf); err != nil {
			t.Fatal(err)
		}
		if len(buf.B) != 0 || cap(buf.B) != 4096 {
			t.Fatalf("round %d: after WriteBuffer len %d cap %d, want 0, 4096", i, len(buf.B), cap(buf.B))
		}
		if got := map[bool]string{true: "own", false: "new"}[unsafe.SliceData(buf.B) == mem]; got != want {
			t.Fatalf("round %d (%d bytes): buffer in %s memory after WriteBuffer, want %s", i, len(buf.B), got, want)
		}
	}
	wg.Wait()

	next := [2]uint32{}
	dec := frame.NewDecoder(bufio.NewReader(cc), codec)
	cc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for next[0] < seq || next[1] < otherSeq {
		p, err := dec.Next()
		if err != nil {
			t.Fatalf("after %v frames: %v", next, err)
		}
		src, i := binary.BigEndian.Uint32(p[:4]), binary.BigEndian.Uint32(p[4:])
		if src > 1 || i != next[src] {
			t.Fatalf("source %d: frame %d, want %d", src, i, next[src])
		}
		next[src]++
	}
}

// writeBufferUntilRefused writes buffers of fill, 3000 bytes at a time,
// to a connection bounded at 8 KiB under policy whose peer never reads,
// until a write is refused with ErrBackpressure; it returns the
// connection and the buffer.
func writeBufferUntilRefused(t *testing.T, policy Policy, fill []byte) (*Conn, *Buffer) {
	t.Helper()
	_, sc := unixPair(t) // the peer never reads
	c := goEngineConn(t, Config{RingSize: 4096, MaxPending: 8 << 10, Policy: policy}, nopHandler{}, sc)
	buf := NewBuffer(4096)
	var refused error
	for range 10000 {
		buf.B = append(buf.B[:0], fill...)
		if refused = c.WriteBuffer(buf); refused != nil {
			break
		}
	}
	if !errors.Is(refused, ErrBackpressure) {
		t.Fatalf("writing to a peer that never reads: %v, want ErrBackpressure", refused)
	}
	return c, buf
}

// A WriteBuffer that fails leaves the buffer as it was, its frames unsent:
// refused by a full queue, and after Close.
func TestWriteBufferRefused(t *testing.T) {
	fill := bytes.Repeat([]byte{'x'}, 3000)
	c, buf := writeBufferUntilRefused(t, PolicyError, fill)
	if !bytes.Equal(buf.B, fill) {
		t.Fatalf("refused buffer holds %d bytes, want its %d", len(buf.B), len(fill))
	}
	if p := c.Pending(); p > 8<<10 {
		t.Fatalf("%d bytes pending, bound 8 KiB", p)
	}
	c.CloseNow(nil)
	if err := c.WriteBuffer(buf); !errors.Is(err, ErrClosed) || !bytes.Equal(buf.B, fill) {
		t.Fatalf("after close: %v, %d bytes left; want ErrClosed, %d", err, len(buf.B), len(fill))
	}
}

// Under PolicyClose a WriteBuffer the queue has no room for closes the
// connection, as a refused Write does.
func TestWriteBufferPolicyClose(t *testing.T) {
	c, _ := writeBufferUntilRefused(t, PolicyClose, make([]byte, 3000))
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("connection still open after a refusal under PolicyClose")
	}
}
