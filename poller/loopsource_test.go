//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

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
