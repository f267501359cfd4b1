// C-sensor is the Go half of goipc's C walkthrough (docs/C-PEERS.md): a
// server that receives fixed-layout sensor records from a C program
// (c/examples/sensor.c, built on c/goipc.h) and sends it commands back on
// the same connection.
//
// Each record is one packed, little-endian C struct
//
//	struct sensor { uint32_t seq; uint64_t ts_ns; float x, y, z; }; // 24 bytes
//
// framed by a 2-byte little-endian length. The server decodes records with
// rawbuf without allocating, checks that they arrive in order (seq 1, 2, 3,
// …) with the demo's values (x = seq/2, y = -seq, z = 1/seq), and answers
// with 8-byte commands {u8 op; u8 pad[3]; u32 arg}: at connect, "set
// period" (-period); after -stop-after records, "stop".
//
//	go run ./examples/c-sensor -addr unix:///tmp/sensor.sock -stop-after 5000
//	cc -std=c99 -O2 -I c -o /tmp/sensor c/examples/sensor.c
//	/tmp/sensor unix:///tmp/sensor.sock 100000
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

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/rawbuf"
)

// codec is the C program's framing: a 2-byte little-endian payload length.
var codec = goipc.LengthCodec(frame.LengthFieldConfig{Size: 2, LittleEndian: true})

const (
	recordSize  = 4 + 8 + 3*4 // sizeof(struct sensor), packed
	commandSize = 8

	opSetPeriod = 1
	opStop      = 2
)

// record is one sensor record, in the C struct's field order.
type record struct {
	Seq     uint32
	TsNs    uint64
	X, Y, Z float32
}

var (
	errSize  = errors.New("record is not " + strconv.Itoa(recordSize) + " bytes")
	errOrder = errors.New("record out of order")
	errValue = errors.New("record values differ from the demo's")
)

// decodeRecord reads one record from b without allocating.
func decodeRecord(b []byte) (record, error) {
	if len(b) != recordSize { // before the Reader: its error would allocate
		return record{}, errSize
	}
	r := rawbuf.NewReader(b, binary.LittleEndian)
	return record{Seq: r.U32(), TsNs: r.U64(), X: r.F32(), Y: r.F32(), Z: r.F32()}, nil
}

// appendCommand appends one command in the C layout.
func appendCommand(dst []byte, op uint8, arg uint32) []byte {
	dst = append(dst, op, 0, 0, 0)
	return binary.LittleEndian.AppendUint32(dst, arg)
}

// Config is what the server tells its sensors.
type Config struct {
	PeriodUs  uint32 // sent at connect; 0 = as fast as possible
	StopAfter int    // send "stop" after this many records; 0 = never
}

// Stats is one connection's outcome.
type Stats struct {
	Conn    uint64
	Records int    // records received, in order and checked
	Errors  int    // bad frames (size, order or values)
	LastSeq uint32 // seq of the last good record
	Err     error  // first error, if any
}

// sensorConn is a connection's state. OnData for one connection is never
// called concurrently, so it needs no lock.
type sensorConn struct {
	c       *goipc.Conn
	cfg     Config
	stats   Stats
	lastTs  uint64
	stopped bool
	cmd     [commandSize]byte
}

// handle checks one frame. It does not allocate (AllocsPerRun test).
func (s *sensorConn) handle(b []byte) {
	r, err := decodeRecord(b)
	if err == nil {
		switch {
		case r.Seq != s.stats.LastSeq+1 || r.TsNs < s.lastTs:
			err = errOrder
		case r.X != float32(r.Seq)*0.5 || r.Y != -float32(r.Seq) || r.Z != 1/float32(r.Seq):
			err = errValue
		}
	}
	if err != nil {
		if s.stats.Err == nil {
			s.stats.Err = err
		}
		s.stats.Errors++
		return
	}
	s.stats.Records++
	s.stats.LastSeq = r.Seq
	s.lastTs = r.TsNs
	if s.cfg.StopAfter > 0 && s.stats.Records >= s.cfg.StopAfter && !s.stopped && s.c != nil {
		s.stopped = true
		s.c.Send(appendCommand(s.cmd[:0], opStop, 0)) // Send copies
	}
}

// listen binds addr; every finished connection's Stats goes to done
// (which may be nil). The caller runs srv.Serve.
func listen(addr string, cfg Config, out io.Writer, done func(Stats)) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr, goipc.WithCodec(codec))
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	srv.OnConnect(func(c *goipc.Conn) {
		s := &sensorConn{c: c, cfg: cfg, stats: Stats{Conn: c.ID()}}
		c.SetValue(s)
		mu.Lock()
		fmt.Fprintf(out, "sensor %d connected; period %d us\n", c.ID(), cfg.PeriodUs)
		mu.Unlock()
		c.Send(appendCommand(s.cmd[:0], opSetPeriod, cfg.PeriodUs))
	})
	srv.OnData(func(c *goipc.Conn, b []byte) { c.Value().(*sensorConn).handle(b) })
	srv.OnDisconnect(func(c *goipc.Conn, err error) {
		s := c.Value().(*sensorConn)
		mu.Lock()
		fmt.Fprintf(out, "sensor %d disconnected: %d records in order, last seq %d, %d bad frames", s.stats.Conn, s.stats.Records, s.stats.LastSeq, s.stats.Errors)
		if s.stats.Err != nil {
			fmt.Fprintf(out, " (first: %v)", s.stats.Err)
		}
		fmt.Fprintln(out)
		mu.Unlock()
		if done != nil {
			done(s.stats)
		}
	})
	return srv, nil
}

func main() {
	addr := flag.String("addr", "unix:///tmp/goipc-c-sensor.sock", "address to listen on (unix:///path or tcp://host:port)")
	period := flag.Uint("period", 0, "microseconds between records, sent to each sensor at connect")
	stopAfter := flag.Int("stop-after", 0, "send stop after this many records (0: never)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := listen(*addr, Config{PeriodUs: uint32(*period), StopAfter: *stopAfter}, os.Stdout, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "c-sensor:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s (2-byte little-endian length frames, %d-byte records)\n", srv.Addr(), recordSize)
	if err := srv.Serve(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "c-sensor:", err)
		os.Exit(1)
	}
}
