package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/seed-fc4a2f4b/goipc"
)

const listenExamples = `  goipc listen unix:///tmp/feed.sock                 # a server that broadcasts
  goipc listen tcp://127.0.0.1:8000 --json --count 10
  goipc listen udp://127.0.0.1:9000 --codec length --hex   # binds: datagrams sent to :9000
  goipc listen tcp://10.0.0.7:9000 --codec raw --retry 1s
`

// runListen is `goipc listen ADDR`: for stream addresses it connects as a
// client; for udp:// it binds ADDR (a UDP peer others send to). It prints
// every message with a timestamp, size and decoded view (--json: JSON
// lines) until --count messages, a signal, or the connection's end.
// Status lines ("connected to", "listening on") go to stderr.
func runListen(ctx context.Context, e *env, args []string) error {
	f := newFlags("listen", "goipc listen ADDR [--json] [--hex] [--count N] [--retry DUR] [codec flags]", listenExamples)
	jsonOut := f.fs.Bool("json", false, "print JSON lines {\"time\",\"size\",\"type\",\"data\"} (raw/length: \"text\" or \"hex\")")
	hexOut := f.fs.Bool("hex", false, "raw/length: always print a hexdump")
	count := f.fs.Int("count", 0, "exit after N messages (0: no limit)")
	retry := f.fs.Duration("retry", 0, "stream addresses: retry connecting and reconnect every DUR, forever (0: fail at once)")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	addr, err := f.oneAddr(pos)
	if err != nil {
		return err
	}
	if *count < 0 {
		return usagef("listen: --count %d: want 0 or more", *count)
	}
	opts, err := f.options(addr)
	if err != nil {
		return err
	}
	codec, _ := f.buildCodec()
	events := isEvents(codec.Mode())
	p := &printer{w: e.stdout, events: events, jsonOut: *jsonOut, stamp: true, hex: *hexOut}
	var got atomic.Int64
	done := make(chan struct{})
	counting := &countingPrinter{p: p, n: &got, max: int64(*count), done: done}

	if strings.HasPrefix(strings.ToLower(addr), "udp://") {
		if f.isSet("retry") {
			return usagef("listen: --retry applies to stream addresses only")
		}
		srv, err := goipc.Listen(addr, opts...)
		if err != nil {
			return fmt.Errorf("listen %s: %w", addr, err)
		}
		setupPrint(srv, counting.print, codec.Mode())
		fmt.Fprintf(e.stderr, "listening on %s\n", srv.Addr())
		go func() {
			select {
			case <-done:
				srv.Close()
			case <-ctx.Done():
			}
		}()
		return srv.Serve(ctx)
	}

	if *retry > 0 {
		opts = append(opts, goipc.WithRetry(*retry, goipc.Forever))
	}
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if events {
		cl.HandleAny(func(m goipc.Message) { counting.print(received{event: m.Event, data: m.Data}) })
	} else {
		cl.OnData(func(b []byte) { counting.print(received{data: b}) })
	}
	var dropErr atomic.Value
	cl.OnConnect(func() { fmt.Fprintf(e.stderr, "connected to %s\n", addr) })
	cl.OnDisconnect(func(err error) {
		if err != nil {
			dropErr.Store(err)
		}
	})
	lost := make(chan struct{})
	var once atomic.Bool
	cl.OnDestroy(func(error) {
		if once.CompareAndSwap(false, true) {
			close(lost)
		}
	})
	if err := cl.Connect(ctx); err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	select {
	case <-ctx.Done():
	case <-done:
	case <-lost:
		if err, _ := dropErr.Load().(error); err != nil {
			return fmt.Errorf("connection to %s lost: %w", addr, err)
		}
		fmt.Fprintln(e.stderr, "connection closed by the server")
	}
	return nil
}

// countingPrinter prints messages and closes done after max of them.
type countingPrinter struct {
	p    *printer
	n    *atomic.Int64
	max  int64
	done chan struct{}
}

// print prints m unless the count is already reached.
func (c *countingPrinter) print(m received) {
	if c.max > 0 && c.n.Load() >= c.max {
		return
	}
	_ = c.p.print(m)
	if n := c.n.Add(1); c.max > 0 && n == c.max {
		close(c.done)
	}
}
