package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/seed-fc4a2f4b/goipc"
)

const serveExamples = `  goipc serve unix:///tmp/demo.sock                  # print what arrives
  goipc serve tcp://127.0.0.1:0 --echo               # echo everything; prints the real port
  goipc serve ipc://world --codec json --echo        # a node-ipc compatible echo server
  goipc serve udp://127.0.0.1:8000 --codec length --len-bytes 2 --little-endian
  tail -f events.jsonl | goipc serve unix:///tmp/feed.sock --broadcast-stdin
`

// runServe is `goipc serve ADDR`: it binds ADDR, prints "listening on
// ADDR" (the resolved address) once it accepts connections, then prints,
// echoes or broadcasts until SIGINT/SIGTERM, when it closes gracefully
// (a Unix socket file is removed).
func runServe(ctx context.Context, e *env, args []string) error {
	f := newFlags("serve", "goipc serve ADDR [--echo | --broadcast-stdin] [--max-conns N] [--json] [-v] [codec flags]", serveExamples)
	echo := f.fs.Bool("echo", false, "return every message to its sender unchanged (same event name; requests get a reply)")
	bcast := f.fs.Bool("broadcast-stdin", false, "broadcast each stdin line to all clients (JSON lines {\"type\":T,\"data\":D} in event/json modes)")
	maxConns := f.fs.Int("max-conns", 0, "refuse connections beyond N open ones (0: no limit)")
	jsonOut := f.fs.Bool("json", false, "print received messages as JSON lines")
	hexOut := f.fs.Bool("hex", false, "raw/length: always print received bytes as a hexdump")
	verbose := f.fs.Bool("v", false, "log connections and disconnections to stderr")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	addr, err := f.oneAddr(pos)
	if err != nil {
		return err
	}
	if *echo && *bcast {
		return usagef("serve: --echo and --broadcast-stdin cannot be combined")
	}
	if *maxConns < 0 {
		return usagef("serve: --max-conns %d: want 0 or more", *maxConns)
	}
	opts, err := f.options(addr)
	if err != nil {
		return err
	}
	codec, _ := f.buildCodec()
	opts = append(opts, goipc.WithMaxConns(*maxConns))
	srv, err := goipc.Listen(addr, opts...)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	if *echo {
		setupEcho(srv, codec.Mode())
	} else {
		p := &printer{w: e.stdout, events: isEvents(codec.Mode()), jsonOut: *jsonOut, stamp: true, hex: *hexOut}
		setupPrint(srv, func(m received) { _ = p.print(m) }, codec.Mode())
	}
	if *verbose {
		var mu sync.Mutex
		srv.OnConnect(func(c *goipc.Conn) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(e.stderr, "conn %d connected%s\n", c.ID(), peerSuffix(c))
		})
		srv.OnDisconnect(func(c *goipc.Conn, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintf(e.stderr, "conn %d disconnected: %v\n", c.ID(), err)
				return
			}
			fmt.Fprintf(e.stderr, "conn %d disconnected\n", c.ID())
		})
	}
	fmt.Fprintf(e.stdout, "listening on %s\n", srv.Addr())
	if *bcast {
		go broadcastLines(ctx, srv, codec.Mode(), e)
	}
	return srv.Serve(ctx)
}

// isEvents reports whether mode carries event names.
func isEvents(m goipc.Mode) bool { return m == goipc.ModeEvent || m == goipc.ModeJSON }

// peerSuffix describes c's peer address, if it has one.
func peerSuffix(c *goipc.Conn) string {
	if a := c.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return " from " + a.String()
	}
	return ""
}

// setupEcho makes srv return every message to its sender: events under
// their own name (requests get a reply with the same data), frames and raw
// chunks byte for byte.
func setupEcho(srv *goipc.Server, mode goipc.Mode) {
	if isEvents(mode) {
		srv.HandleAny(func(c *goipc.Conn, m goipc.Message) {
			if m.IsRequest() {
				_ = m.Reply(m.Data)
				return
			}
			_ = c.Emit(m.Event, m.Data)
		})
		return
	}
	srv.OnData(func(c *goipc.Conn, b []byte) { _ = c.Send(b) })
}

// setupPrint makes srv hand every message it receives to print, with the
// sender ("conn N", or a UDP peer's address) in from. m.data is valid
// during the call only.
func setupPrint(srv *goipc.Server, print func(m received), mode goipc.Mode) {
	from := func(c *goipc.Conn) string {
		if a, ok := c.PeerAddr(); ok {
			return a.String()
		}
		return "conn " + strconv.FormatUint(c.ID(), 10)
	}
	if isEvents(mode) {
		srv.HandleAny(func(c *goipc.Conn, m goipc.Message) {
			print(received{event: m.Event, data: m.Data, from: from(c)})
		})
		return
	}
	srv.OnData(func(c *goipc.Conn, b []byte) { print(received{data: b, from: from(c)}) })
}

// broadcastLines broadcasts each stdin line to every client until stdin
// ends: in event and json modes each line is {"type":T,"data":D}, in
// length mode a line is a frame (without its newline), in raw mode the
// line's bytes newline included. Bad lines are reported on stderr and
// skipped.
func broadcastLines(ctx context.Context, srv *goipc.Server, mode goipc.Mode, e *env) {
	sc := newLineScanner(e.stdin)
	for n := 1; sc.Scan() && ctx.Err() == nil; n++ {
		line := sc.Bytes()
		var err error
		switch mode {
		case goipc.ModeEvent, goipc.ModeJSON:
			typ, data, perr := parseEventLine(line)
			if perr != nil {
				err = perr
				break
			}
			_, err = srv.Broadcast(typ, data)
		case goipc.ModeRaw:
			_, err = srv.BroadcastBytes(append(append(make([]byte, 0, len(line)+1), line...), '\n'))
		default:
			_, err = srv.BroadcastBytes(line)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "%s\n", errText(fmt.Errorf("stdin line %d: %w", n, err)))
		}
	}
}

// newLineScanner scans lines of up to 64 MiB from r.
func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	return sc
}
