// Broadcast mirrors node-ipc's broadcast example: a server emits a "tick"
// event carrying a counter to every connected client at a fixed interval
// (Server.Broadcast encodes the message once and queues it on every
// connection); each client prints the ticks it receives.
//
// Run the server in one terminal and as many clients as you like in others:
//
//	go run ./examples/broadcast -serve
//	go run ./examples/broadcast
//
// The address defaults to ipc://world; -interval sets the tick period and
// -n how many ticks a client prints before leaving (0: until interrupted).
package main

import (
	"context"
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
)

func main() {
	serveFlag := flag.Bool("serve", false, "run the server (default: run the client)")
	addr := flag.String("addr", "ipc://world", "goipc address to listen on or connect to")
	interval := flag.Duration("interval", time.Second, "server: time between ticks")
	n := flag.Int("n", 5, "client: ticks to print before leaving (0: until interrupted)")
	timeout := flag.Duration("timeout", 5*time.Second, "client: connect timeout")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *serveFlag {
		err = serve(ctx, *addr, os.Stdout, *interval)
	} else {
		err = runClient(ctx, *addr, os.Stdout, *n, *timeout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "broadcast:", err)
		os.Exit(1)
	}
}

// serve runs the broadcasting server on addr until ctx ends.
func serve(ctx context.Context, addr string, out io.Writer, interval time.Duration) error {
	out = &lockedWriter{w: out} // the ticker and the event loops print
	srv, err := listen(addr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s, ticking every %v\n", srv.Addr(), interval)
	go tick(ctx, srv, out, interval)
	return srv.Serve(ctx)
}

// listen binds addr and reports clients coming and going; the caller runs
// srv.Serve and tick. out must be safe for concurrent use: the handlers
// print from the server's event loops.
func listen(addr string, out io.Writer) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr)
	if err != nil {
		return nil, err
	}
	srv.OnConnect(func(c *goipc.Conn) { fmt.Fprintf(out, "client %d joined\n", c.ID()) })
	srv.OnDisconnect(func(c *goipc.Conn, err error) { fmt.Fprintf(out, "client %d left\n", c.ID()) })
	return srv, nil
}

// tick broadcasts "tick" with a counter (1, 2, 3, … as decimal text) every
// interval until ctx ends. Ticks happen whether or not anyone listens.
func tick(ctx context.Context, srv *goipc.Server, out io.Writer, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var buf []byte // reused: Broadcast copies the data
	for n := 1; ; n++ {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		buf = strconv.AppendInt(buf[:0], int64(n), 10)
		reached, err := srv.Broadcast("tick", buf)
		if err != nil { // e.g. a client closing meanwhile; the others got it
			fmt.Fprintf(out, "tick %d: reached %d clients: %v\n", n, reached, err)
		} else {
			fmt.Fprintf(out, "tick %d: reached %d clients\n", n, reached)
		}
	}
}

// runClient connects to addr and prints ticks until it has printed n of
// them (n <= 0: until ctx ends), the server goes away or ctx ends.
func runClient(ctx context.Context, addr string, out io.Writer, n int, connectTimeout time.Duration) error {
	cl, err := goipc.NewClient(addr)
	if err != nil {
		return err
	}
	defer cl.Close()

	// The handler runs on the connection's reader goroutine: it must not
	// block, nor keep m.Data (it aliases the receive buffer).
	ticks := make(chan string, 64)
	cl.Handle("tick", func(m goipc.Message) {
		select {
		case ticks <- string(m.Data):
		default: // this client is too slow: skip a tick
		}
	})
	lost := make(chan struct{})
	var once sync.Once
	cl.OnDisconnect(func(error) { once.Do(func() { close(lost) }) })

	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	err = cl.Connect(cctx)
	cancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "connected to %s\n", addr)
	for i := 0; n <= 0 || i < n; i++ {
		select {
		case s := <-ticks:
			fmt.Fprintf(out, "tick %s\n", s)
		case <-lost:
			fmt.Fprintln(out, "server went away")
			return nil
		case <-ctx.Done():
			if n <= 0 {
				return nil // interrupted: a normal end
			}
			return fmt.Errorf("waiting for tick %d of %d: %w", i+1, n, ctx.Err())
		}
	}
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
