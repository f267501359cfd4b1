//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/seed-fc4a2f4b/goipc/frame"
)

// splitStream returns frames of mixed sizes (mostly small, some larger
// than the loop's 64 KiB read buffer), with no '\f' in them, and their
// encoding by codec as one stream.
func splitStream(t *testing.T, rng *rand.Rand, codec frame.Codec) (frames [][]byte, stream []byte) {
	for i := range 400 {
		var n int
		switch r := rng.IntN(100); {
		case r < 70:
			n = rng.IntN(100)
		case r < 95:
			n = 100 + rng.IntN(8<<10)
		default:
			n = 60<<10 + rng.IntN(150<<10)
		}
		p := make([]byte, n)
		for j := range p {
			p[j] = 'a' + byte((i+j)%26)
		}
		var err error
		if stream, err = codec.Append(stream, p); err != nil {
			t.Fatal(err)
		}
		frames = append(frames, p)
	}
	return frames, stream
}

// writePieces writes stream in pieces of random sizes, many of them a
// few bytes, so that reads end inside headers, inside payloads and
// inside delimiters.
func writePieces(rng *rand.Rand, nc net.Conn, stream []byte) error {
	for len(stream) > 0 {
		var n int
		switch r := rng.IntN(10); {
		case r < 4:
			n = 1 + rng.IntN(8)
		case r < 8:
			n = 1 + rng.IntN(300)
		default:
			n = 1 + rng.IntN(100<<10)
		}
		n = min(n, len(stream))
		if _, err := nc.Write(stream[:n]); err != nil {
			return err
		}
		stream = stream[n:]
	}
	return nil
}

// The loop hands every frame over whole and in order however the reads
// cut the stream: bytes a read leaves in an incomplete frame are carried
// to the next read (loopSource). A peer leaving inside a frame is told
// apart from a clean close.
func TestLoopSourceSplitReads(t *testing.T) {
	codecs := map[string]frame.Codec{
		"length":    frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: 1 << 20}),
		"delimiter": frame.MustDelimiter(frame.DelimiterConfig{Delimiter: []byte("\f"), MaxFrame: 1 << 20}),
		"raw":       frame.Raw{},
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			col := newCollector()
			e, err := NewLoopEngine(Config{Codec: codec, PartialTimeout: -1}, col, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			addr := serve(t, "unix", e)
			nc, err := net.Dial("unix", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			rng := rand.New(rand.NewPCG(8, uint64(len(name))))
			frames, stream := splitStream(t, rng, codec)
			done := make(chan error, 1)
			go func() {
				err := writePieces(rng, nc, stream)
				if err == nil && name != "raw" {
					// The start of one more frame, then the peer leaves.
					p, _ := codec.Append(nil, []byte("cut short"))
					_, err = nc.Write(p[:len(p)-2])
				}
				if err == nil {
					err = nc.(*net.UnixConn).CloseWrite()
				}
				done <- err
			}()
			var closeErr error
			select {
			case closeErr = <-col.closed:
			case <-time.After(20 * time.Second):
				t.Fatalf("timed out with %d frames", len(col.frames))
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			col.mu.Lock()
			defer col.mu.Unlock()
			if name == "raw" {
				// Raw chunks are whatever each read held: only the bytes
				// and their order are the stream's.
				if got := bytes.Join(col.frames, nil); !bytes.Equal(got, stream) {
					t.Fatalf("raw: got %d bytes, want %d, or out of order", len(got), len(stream))
				}
				if closeErr != nil {
					t.Fatalf("close: %v, want a clean end", closeErr)
				}
				return
			}
			if len(col.frames) != len(frames) {
				t.Fatalf("%d frames, want %d", len(col.frames), len(frames))
			}
			for i := range frames {
				if !bytes.Equal(col.frames[i], frames[i]) {
					t.Fatalf("frame %d: %d bytes, want %d (or different bytes)", i, len(col.frames[i]), len(frames[i]))
				}
			}
			if closeErr != io.ErrUnexpectedEOF {
				t.Fatalf("close: %v, want %v for a peer leaving inside a frame", closeErr, io.ErrUnexpectedEOF)
			}
		})
	}
}

// fakeGnet is the part of gnet.Conn a loopSource uses, over a byte slice
// standing for gnet's read buffer.
type fakeGnet struct {
	gnet.Conn
	buf []byte
}

func (f *fakeGnet) InboundBuffered() int { return len(f.buf) }
func (f *fakeGnet) Peek(n int) ([]byte, error) {
	if n <= 0 {
		n = len(f.buf)
	}
	if n > len(f.buf) {
		return nil, io.ErrShortBuffer
	}
	return f.buf[:n:n], nil
}
func (f *fakeGnet) Discard(n int) (int, error) {
	n = min(n, len(f.buf))
	f.buf = f.buf[n:]
	return n, nil
}

// A frame announced large costs carry memory as its bytes arrive (at most
// four times what arrived: twice, rounded up to a power-of-two chunk; at
// least a 4 KiB chunk), not as announced. Once the
// carried frame is complete the carry is given back and the frames after
// it are read in place from the read buffer, not copied.
func TestLoopSourceCarry(t *testing.T) {
	codec := frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: 2 << 20})
	g := &fakeGnet{}
	src := &loopSource{gc: g, exact: true}
	dec := frame.NewDecoder(src, codec)
	// read delivers p as one read, and returns the frames decoded from it
	// before the carry is stashed, as OnTraffic does.
	read := func(p []byte) (frames [][]byte) {
		t.Helper()
		g.buf = p
		for {
			f, err := dec.Next()
			if err == io.ErrShortBuffer {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			frames = append(frames, f)
		}
		if err := dec.Discard(); err != nil {
			t.Fatal(err)
		}
		if err := src.stash(); err != nil {
			t.Fatal(err)
		}
		if len(g.buf) != 0 {
			t.Fatalf("%d bytes left in gnet's buffer", len(g.buf))
		}
		return frames
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	stream, _ := codec.Append(nil, big)
	small, _ := codec.Append(nil, []byte("after"))
	stream = append(stream, small...)

	steps := []struct{ upto, maxCap int }{
		{104, 4 << 10},                    // header and 100 bytes: one 4 KiB chunk
		{300 << 10, 1200 << 10},           // 300 KiB in all: at most four times that
		{len(stream) - len(small) - 1, 0}, // all but the frame's last byte
	}
	at := 0
	for _, s := range steps {
		if got := read(stream[at:s.upto]); len(got) != 0 {
			t.Fatalf("a frame before its end (%d bytes in)", s.upto)
		}
		at = s.upto
		if held := src.held(); held != at {
			t.Fatalf("%d bytes carried, want %d", held, at)
		}
		if c := cap(src.carry.b); s.maxCap > 0 && c > s.maxCap {
			t.Fatalf("%d bytes in: carry of %d bytes, want at most %d", at, c, s.maxCap)
		}
	}
	// The last byte, and a whole frame after it, in one read.
	rest := stream[at:]
	got := read(rest)
	if len(got) != 2 || !bytes.Equal(got[0], big) || string(got[1]) != "after" {
		t.Fatalf("got %d frames, want the 1 MiB one and %q", len(got), "after")
	}
	if src.carry != nil {
		t.Fatal("carry kept after its frame was consumed")
	}
	if &got[1][0] != &rest[len(rest)-len("after")] {
		t.Fatal("the frame after the carried one was copied, not read in place")
	}
}
