// Echo is goipc's version of node-ipc's classic "hello world" example: a
// server that sends every "message" event back to its sender, and a client
// that emits "message" "hello" a few times and prints the echoes.
//
// The address defaults to ipc://world, node-ipc's example id: a Unix socket
// named app.world under goipc's socket root ($XDG_RUNTIME_DIR/goipc/, else
// <tmp>/goipc-<uid>/). Run the server in one terminal and the client in
// another:
//
//	go run ./examples/echo -serve
//	go run ./examples/echo
//
// Any goipc address works, e.g. -addr unix:///tmp/echo.sock or
// -addr tcp://127.0.0.1:8000, given to both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

func main() {
	serveFlag := flag.Bool("serve", false, "run the server (default: run the client)")
	addr := flag.String("addr", "ipc://world", "goipc address to listen on or connect to")
	n := flag.Int("n", 3, "client: how many messages to emit")
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
		err = runClient(ctx, *addr, os.Stdout, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

// serve runs the echo server on addr until ctx ends.
func serve(ctx context.Context, addr string, out io.Writer) error {
	srv, err := listen(addr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", srv.Addr())
	return srv.Serve(ctx)
}

// listen binds addr and registers the echo handlers; the caller runs
// srv.Serve. The handlers write to out from the server's event loops.
func listen(addr string, out io.Writer) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr)
	if err != nil {
		return nil, err
	}
	out = &lockedWriter{w: out} // several event loops may print at once
	srv.OnConnect(func(c *goipc.Conn) {
		fmt.Fprintf(out, "client %d connected\n", c.ID())
	})
	srv.OnDisconnect(func(c *goipc.Conn, err error) {
		fmt.Fprintf(out, "client %d disconnected\n", c.ID())
	})
	srv.Handle("message", func(c *goipc.Conn, m goipc.Message) {
		fmt.Fprintf(out, "client %d: message %q\n", c.ID(), m.Data)
		// Emit copies m.Data before returning, so echoing the receive
		// buffer directly is safe.
		if err := c.Emit("message", m.Data); err != nil {
			fmt.Fprintf(out, "client %d: echo: %v\n", c.ID(), err)
		}
	})
	return srv, nil
}

// runClient connects to addr, emits "message" "hello" n times and prints
// the n echoes, in order.
func runClient(ctx context.Context, addr string, out io.Writer, n int) error {
	cl, err := goipc.NewClient(addr)
	if err != nil {
		return err
	}
	defer cl.Close()

	// Handlers run on the connection's reader goroutine and must not
	// block: copy the data (it aliases the receive buffer) and hand it
	// over; this goroutine does the printing.
	echoes := make(chan string, n)
	cl.Handle("message", func(m goipc.Message) {
		select {
		case echoes <- string(m.Data):
		default: // more echoes than expected: drop
		}
	})
	lost := make(chan struct{})
	var once sync.Once
	cl.OnDisconnect(func(error) { once.Do(func() { close(lost) }) })

	// Register handlers first, then connect, so no reply can be missed.
	if err := cl.Connect(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "connected to %s\n", addr)
	for i := range n {
		if err := cl.Emit("message", []byte("hello")); err != nil {
			return fmt.Errorf("emit %d: %w", i+1, err)
		}
	}
	for i := range n {
		select {
		case s := <-echoes:
			fmt.Fprintf(out, "echo %d: %s\n", i+1, s)
		case <-lost:
			return errors.New("server closed the connection")
		case <-ctx.Done():
			return fmt.Errorf("waiting for echo %d of %d: %w", i+1, n, ctx.Err())
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
