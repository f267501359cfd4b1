// Udp mirrors node-ipc's UDP example: a server on a UDP socket and a
// client that emits "message" events to it; the server replies to each
// message's sender (the peer it came from) with the text plus " world!".
//
// Over UDP every message is one datagram and there is no connection: the
// server learns a peer from its first datagram (OnConnect runs then), and a
// lost datagram is simply lost. The client therefore sends one message,
// waits for its reply, then sends the next, and gives up after -timeout.
//
// Run the server in one terminal and the client in another:
//
//	go run ./examples/udp -serve
//	go run ./examples/udp
//
// The address defaults to udp://127.0.0.1:8000 (node-ipc's example port);
// -addr udp://127.0.0.1:0 lets the server pick a free port, which it prints.
package main

import (
	"context"
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
	addr := flag.String("addr", "udp://127.0.0.1:8000", "udp://host:port to listen on or send to")
	n := flag.Int("n", 3, "client: how many messages to send")
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
		fmt.Fprintln(os.Stderr, "udp:", err)
		os.Exit(1)
	}
}

// serve runs the UDP server on addr until ctx ends.
func serve(ctx context.Context, addr string, out io.Writer) error {
	srv, err := listen(addr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", srv.Addr())
	return srv.Serve(ctx)
}

// listen binds addr and registers the handlers; the caller runs srv.Serve.
func listen(addr string, out io.Writer) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr)
	if err != nil {
		return nil, err
	}
	out = &lockedWriter{w: out}
	srv.OnConnect(func(c *goipc.Conn) {
		fmt.Fprintf(out, "new peer %s\n", c.RemoteAddr())
	})
	srv.Handle("message", func(c *goipc.Conn, m goipc.Message) {
		fmt.Fprintf(out, "from %s: %s\n", c.RemoteAddr(), m.Data)
		// c is the sending peer: Emit goes back to the address the
		// datagram came from. The reply is built in a new slice, so m.Data
		// (the receive buffer) is only read.
		reply := append(append(make([]byte, 0, len(m.Data)+7), m.Data...), " world!"...)
		if err := c.Emit("message", reply); err != nil {
			fmt.Fprintf(out, "reply to %s: %v\n", c.RemoteAddr(), err)
		}
	})
	return srv, nil
}

// runClient sends "hello 1" … "hello n" to the server at addr, one at a
// time, printing each reply before sending the next.
func runClient(ctx context.Context, addr string, out io.Writer, n int) error {
	cl, err := goipc.NewClient(addr)
	if err != nil {
		return err
	}
	defer cl.Close()
	replies := make(chan string, 1)
	cl.Handle("message", func(m goipc.Message) {
		select {
		case replies <- string(m.Data): // a copy: m.Data is the receive buffer
		default: // a duplicate or stray datagram
		}
	})
	// For UDP, Connect binds a local socket and starts reading; nothing
	// is sent until the first Emit.
	if err := cl.Connect(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "sending to %s\n", addr)
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("hello %d", i)
		if err := cl.Emit("message", []byte(msg)); err != nil {
			return fmt.Errorf("emit %q: %w", msg, err)
		}
		select {
		case r := <-replies:
			fmt.Fprintf(out, "reply: %s\n", r)
		case <-ctx.Done():
			return fmt.Errorf("no reply to %q (datagram lost, or no server at %s): %w", msg, addr, ctx.Err())
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
