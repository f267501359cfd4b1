// Rawstruct shows goipc's length mode talking to a C-style peer: each
// message is one packed, little-endian C struct
//
//	struct sensor {
//		uint32_t seq;
//		uint64_t ts_ns;
//		float    x, y, z;
//	} __attribute__((packed)); // 24 bytes
//
// framed by a 2-byte little-endian length, exactly what a C program doing
// write(fd, &len16, 2); write(fd, &rec, 24) produces. There are no event
// names in this mode: the client Sends frames, the server gets each frame
// (header stripped) in OnData. The client encodes records with a reused
// rawbuf.Writer; the server decodes them with rawbuf.Reader and formats
// them without allocating, and hexdumps the first record of each client.
//
// Run the server in one terminal and the client in another:
//
//	go run ./examples/rawstruct -serve
//	go run ./examples/rawstruct
//
// The address defaults to ipc://world; -n sets how many records to send.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

// codec frames messages with a 2-byte little-endian length of the payload,
// as the C peer does. Both ends must use it.
var codec = goipc.LengthCodec(frame.LengthFieldConfig{Size: 2, LittleEndian: true})

// sensorSize is sizeof(struct sensor), packed.
const sensorSize = 4 + 8 + 3*4

// sensor is one record, in the C struct's field order.
type sensor struct {
	Seq     uint32
	TsNs    uint64
	X, Y, Z float32
}

var errRecordSize = errors.New("record is not " + strconv.Itoa(sensorSize) + " bytes")

// encode appends s to w in the C struct's layout.
func (s *sensor) encode(w *rawbuf.Writer) {
	w.U32(s.Seq)
	w.U64(s.TsNs)
	w.F32(s.X)
	w.F32(s.Y)
	w.F32(s.Z)
}

// decodeSensor reads one record from b, which must hold exactly one. It
// does not allocate, even for bad input.
func decodeSensor(b []byte) (sensor, error) {
	// Check the size first: after a short read the Reader's Err builds its
	// error with fmt.Errorf, which allocates, and a peer could make every
	// frame short.
	if len(b) != sensorSize {
		return sensor{}, errRecordSize
	}
	r := rawbuf.NewReader(b, binary.LittleEndian)
	s := sensor{Seq: r.U32(), TsNs: r.U64(), X: r.F32(), Y: r.F32(), Z: r.F32()}
	return s, r.Err() // nil: the size was checked
}

// appendText appends s as "seq=1 ts_ns=… x=… y=… z=…" without allocating.
func (s *sensor) appendText(dst []byte) []byte {
	dst = append(dst, "seq="...)
	dst = strconv.AppendUint(dst, uint64(s.Seq), 10)
	dst = append(dst, " ts_ns="...)
	dst = strconv.AppendUint(dst, s.TsNs, 10)
	dst = append(dst, " x="...)
	dst = strconv.AppendFloat(dst, float64(s.X), 'g', -1, 32)
	dst = append(dst, " y="...)
	dst = strconv.AppendFloat(dst, float64(s.Y), 'g', -1, 32)
	dst = append(dst, " z="...)
	dst = strconv.AppendFloat(dst, float64(s.Z), 'g', -1, 32)
	return dst
}

func main() {
	serveFlag := flag.Bool("serve", false, "run the server (default: run the client)")
	addr := flag.String("addr", "ipc://world", "goipc address to listen on or connect to")
	n := flag.Int("n", 3, "client: how many records to send")
	timeout := flag.Duration("timeout", 10*time.Second, "client: give up after this long")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *serveFlag {
		err = serve(ctx, *addr, os.Stdout)
	} else {
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		err = runClient(ctx, *addr, os.Stdout, *n, time.Now())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawstruct:", err)
		os.Exit(1)
	}
}

// serve runs the record server on addr until ctx ends.
func serve(ctx context.Context, addr string, out io.Writer) error {
	srv, err := listen(addr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s (2-byte little-endian length frames, %d-byte records)\n", srv.Addr(), sensorSize)
	return srv.Serve(ctx)
}

// connState is a connection's formatting buffer and record count. OnData
// for one connection is never called concurrently, so it needs no lock.
type connState struct {
	id   uint64
	n    int
	line []byte
}

// listen binds addr in length mode and prints every record received; the
// caller runs srv.Serve.
func listen(addr string, out io.Writer) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr, goipc.WithCodec(codec))
	if err != nil {
		return nil, err
	}
	out = &lockedWriter{w: out} // several event loops may print at once
	srv.OnConnect(func(c *goipc.Conn) {
		// OnConnect runs before the connection's first frame.
		c.SetValue(&connState{id: c.ID(), line: make([]byte, 0, 128)})
		fmt.Fprintf(out, "client %d connected\n", c.ID())
	})
	srv.OnDisconnect(func(c *goipc.Conn, err error) {
		st := c.Value().(*connState)
		fmt.Fprintf(out, "client %d disconnected after %d records\n", c.ID(), st.n)
	})
	srv.OnData(func(c *goipc.Conn, b []byte) {
		c.Value().(*connState).handle(out, b)
	})
	return srv, nil
}

// handle decodes and prints one frame. b is valid only during the call.
// Apart from the first record's hexdump it does not allocate.
func (st *connState) handle(out io.Writer, b []byte) {
	line := append(st.line[:0], "client "...)
	line = strconv.AppendUint(line, st.id, 10)
	s, err := decodeSensor(b)
	if err != nil {
		line = append(line, ": bad frame of "...)
		line = strconv.AppendInt(line, int64(len(b)), 10)
		line = append(line, " bytes: "...)
		line = append(line, errRecordSize.Error()...)
	} else {
		if st.n == 0 {
			fmt.Fprintf(out, "client %d: first record, %d bytes:\n%s", st.id, len(b), rawbuf.Hexdump(b))
		}
		st.n++
		line = append(line, ": "...)
		line = s.appendText(line)
	}
	line = append(line, '\n')
	out.Write(line)
	st.line = line
}

// runClient connects to addr and sends n records, seq 1 to n, stamped
// t0, t0+10ms, … (a fixed t0 makes the output reproducible).
func runClient(ctx context.Context, addr string, out io.Writer, n int, t0 time.Time) error {
	cl, err := goipc.NewClient(addr, goipc.WithCodec(codec))
	if err != nil {
		return err
	}
	// Close flushes what was sent before closing the connection.
	defer cl.Close()
	if err := cl.Connect(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "connected to %s\n", addr)

	var buf [sensorSize]byte // reused for every record: Send copies it
	w := rawbuf.NewWriter(buf[:0], binary.LittleEndian)
	var text []byte
	for i := range n {
		s := sensor{
			Seq:  uint32(i + 1),
			TsNs: uint64(t0.Add(time.Duration(i) * 10 * time.Millisecond).UnixNano()),
			X:    float32(i) * 0.5,
			Y:    -float32(i + 1),
			Z:    1 / float32(i+1),
		}
		w.Reset()
		s.encode(&w)
		if err := cl.Send(w.Bytes()); err != nil {
			return fmt.Errorf("send record %d: %w", s.Seq, err)
		}
		text = append(s.appendText(append(text[:0], "sent "...)), '\n')
		out.Write(text)
	}
	fmt.Fprintf(out, "sent %d records of %d bytes (%d on the wire each)\n", n, sensorSize, 2+sensorSize)
	return nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
