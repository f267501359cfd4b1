package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

var t0 = time.Unix(1700000000, 0)

func TestRawStruct(t *testing.T) {
	var srvOut syncBuffer
	srv := startServer(t, "unix://"+shortTempDir(t)+"/raw.sock", &srvOut)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := runClient(ctx, srv.Addr(), &out, 3, t0); err != nil {
		t.Fatal(err)
	}
	want := "connected to " + srv.Addr() + "\n" +
		"sent seq=1 ts_ns=1700000000000000000 x=0 y=-1 z=1\n" +
		"sent seq=2 ts_ns=1700000000010000000 x=0.5 y=-2 z=0.5\n" +
		"sent seq=3 ts_ns=1700000000020000000 x=1 y=-3 z=0.33333334\n" +
		"sent 3 records of 24 bytes (26 on the wire each)\n"
	if out.String() != want {
		t.Errorf("client printed\n%s\nwant\n%s", out.String(), want)
	}

	srvOut.waitFor(t, "the disconnect", func(s string) bool { return strings.Contains(s, "disconnected") })
	wantSrv := "client N connected\n" +
		"client N: first record, 24 bytes:\n" +
		"00000000  01 00 00 00 00 00 2a 36  fe 9c 97 17 00 00 00 00  |......*6........|\n" +
		"00000010  00 00 80 bf 00 00 80 3f                           |.......?|\n" +
		"00000018\n" +
		"client N: seq=1 ts_ns=1700000000000000000 x=0 y=-1 z=1\n" +
		"client N: seq=2 ts_ns=1700000000010000000 x=0.5 y=-2 z=0.5\n" +
		"client N: seq=3 ts_ns=1700000000020000000 x=1 y=-3 z=0.33333334\n" +
		"client N disconnected after 3 records\n"
	if got := anonymise(srvOut.String()); got != wantSrv {
		t.Errorf("server printed\n%s\nwant\n%s", got, wantSrv)
	}
}

// A peer that knows nothing of goipc — a plain socket writing a 2-byte
// little-endian length and the packed struct, as C would — is understood;
// a frame of the wrong size is reported, not fatal.
func TestRawStructCPeer(t *testing.T) {
	dir := shortTempDir(t)
	var srvOut syncBuffer
	startServer(t, "unix://"+dir+"/raw.sock", &srvOut)

	nc, err := net.Dial("unix", dir+"/raw.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rec := func(seq uint32, ts uint64, x, y, z float32) []byte {
		b := binary.LittleEndian.AppendUint16(nil, 24)
		b = binary.LittleEndian.AppendUint32(b, seq)
		b = binary.LittleEndian.AppendUint64(b, ts)
		for _, f := range []float32{x, y, z} {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
		return b
	}
	var wire []byte
	wire = append(wire, rec(7, 42, 1.25, float32(math.Inf(-1)), -0)...)
	wire = append(wire, 3, 0, 'a', 'b', 'c') // a 3-byte frame
	wire = append(wire, rec(8, 43, 0, 0, 0)...)
	// Split mid-header and mid-record: framing must not care.
	for _, chunk := range [][]byte{wire[:1], wire[1:10], wire[10:]} {
		if _, err := nc.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	srvOut.waitFor(t, "both records", func(s string) bool { return strings.Contains(s, "seq=8") })
	want := "client N connected\n" +
		"client N: first record, 24 bytes:\n" +
		"00000000  07 00 00 00 2a 00 00 00  00 00 00 00 00 00 a0 3f  |....*..........?|\n" +
		"00000010  00 00 80 ff 00 00 00 00                           |........|\n" +
		"00000018\n" +
		"client N: seq=7 ts_ns=42 x=1.25 y=-Inf z=0\n" +
		"client N: bad frame of 3 bytes: record is not 24 bytes\n" +
		"client N: seq=8 ts_ns=43 x=0 y=0 z=0\n"
	if got := anonymise(srvOut.String()); got != want {
		t.Errorf("server printed\n%s\nwant\n%s", got, want)
	}
}

func TestDecodeSensor(t *testing.T) {
	s := sensor{Seq: math.MaxUint32, TsNs: math.MaxUint64, X: float32(math.NaN()), Y: float32(math.Inf(1)), Z: -1.5}
	w := rawbuf.NewWriter(nil, binary.LittleEndian)
	s.encode(&w)
	if w.Len() != sensorSize {
		t.Fatalf("encoded %d bytes", w.Len())
	}
	got, err := decodeSensor(w.Bytes())
	if err != nil || got.Seq != s.Seq || got.TsNs != s.TsNs || !math.IsNaN(float64(got.X)) || got.Y != s.Y || got.Z != s.Z {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	for _, n := range []int{0, 1, sensorSize - 1, sensorSize + 1} {
		b := make([]byte, n)
		if _, err := decodeSensor(b); err != errRecordSize {
			t.Errorf("%d bytes: err %v", n, err)
		}
	}
}

// Decoding and printing a record does not allocate (after the first
// record's hexdump).
func TestHandleNoAlloc(t *testing.T) {
	st := &connState{id: 1, line: make([]byte, 0, 128)}
	w := rawbuf.NewWriter(nil, binary.LittleEndian)
	(&sensor{Seq: 1, TsNs: 2, X: 3, Y: 4, Z: 5}).encode(&w)
	rec := w.Bytes()
	var out io.Writer = io.Discard
	st.handle(out, rec)
	bad := rec[:5]
	if n := testing.AllocsPerRun(100, func() {
		st.handle(out, rec)
		st.handle(out, bad)
	}); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
}

var connID = regexp.MustCompile(`client \d+`)

// anonymise replaces connection ids, which depend on the test order.
func anonymise(s string) string { return connID.ReplaceAllString(s, "client N") }

// startServer listens on addr and serves until the test ends.
func startServer(t *testing.T, addr string, out *syncBuffer) *goipc.Server {
	t.Helper()
	srv, err := listen(addr, out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return srv
}

// shortTempDir keeps socket paths well under sun_path's 108 bytes.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "gx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// syncBuffer is an io.Writer safe from any goroutine that wakes waitFor
// on every write.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	notify chan struct{}
	once   sync.Once
}

func (s *syncBuffer) init() { s.once.Do(func() { s.notify = make(chan struct{}, 1) }) }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.init()
	s.mu.Lock()
	n, err := s.b.Write(p)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until cond holds for the output so far, at most 10 s.
func (s *syncBuffer) waitFor(t *testing.T, what string, cond func(string) bool) {
	t.Helper()
	s.init()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for !cond(s.String()) {
		select {
		case <-s.notify:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; output so far:\n%s", what, s.String())
		}
	}
}
