// Reqreply shows request/reply, which goipc adds to node-ipc's events: the
// server handles the "sum" request (a JSON array of numbers) and answers
// with their sum through m.Reply; the client calls cl.Request with a
// context timeout and waits for the answer. It also shows the two kinds of
// failure a requester sees: an error reply from the handler (a
// *goipc.RemoteError) and a request for an event the server has no handler
// for (errors.Is(err, goipc.ErrNoHandler)).
//
// Run the server in one terminal and the client in another:
//
//	go run ./examples/reqreply -serve
//	go run ./examples/reqreply 1 2 3.5
//
// The address defaults to ipc://world.
package main

import (
	"context"
	"encoding/json"
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
)

func main() {
	serveFlag := flag.Bool("serve", false, "run the server (default: run the client)")
	addr := flag.String("addr", "ipc://world", "goipc address to listen on or connect to")
	timeout := flag.Duration("timeout", 2*time.Second, "client: timeout of each request")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: reqreply -serve [-addr A]\n       reqreply [-addr A] [-timeout D] [number ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *serveFlag {
		err = serve(ctx, *addr, os.Stdout)
	} else {
		nums := []float64{1, 2, 3.5}
		if flag.NArg() > 0 {
			nums = nums[:0]
			for _, a := range flag.Args() {
				f, perr := strconv.ParseFloat(a, 64)
				if perr != nil {
					fmt.Fprintln(os.Stderr, "reqreply: not a number:", a)
					os.Exit(2)
				}
				nums = append(nums, f)
			}
		}
		err = runClient(ctx, *addr, os.Stdout, nums, *timeout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reqreply:", err)
		os.Exit(1)
	}
}

// serve runs the server on addr until ctx ends.
func serve(ctx context.Context, addr string, out io.Writer) error {
	srv, err := listen(addr, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "listening on %s\n", srv.Addr())
	return srv.Serve(ctx)
}

// listen binds addr and registers the "sum" handler; the caller runs
// srv.Serve.
func listen(addr string, out io.Writer) (*goipc.Server, error) {
	srv, err := goipc.Listen(addr)
	if err != nil {
		return nil, err
	}
	out = &lockedWriter{w: out} // several event loops may print at once
	srv.Handle("sum", func(c *goipc.Conn, m goipc.Message) {
		var nums []float64
		if err := m.Decode(&nums); err != nil {
			fmt.Fprintf(out, "sum %s: bad request: %v\n", m.Data, err)
			m.ReplyError(fmt.Errorf("sum wants a JSON array of numbers: %w", err))
			return
		}
		var total float64
		for _, f := range nums {
			total += f
		}
		fmt.Fprintf(out, "sum %s = %s\n", m.Data, formatNumber(total))
		// The reply goes back on c with the request's id; the requester's
		// Request returns it.
		if err := m.Reply(strconv.AppendFloat(nil, total, 'g', -1, 64)); err != nil {
			fmt.Fprintf(out, "reply: %v\n", err)
		}
	})
	return srv, nil
}

// runClient asks the server at addr for the sum of nums, then makes two
// requests that fail, printing what happens. Each request is bounded by
// timeout.
func runClient(ctx context.Context, addr string, out io.Writer, nums []float64, timeout time.Duration) error {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	cl, err := goipc.Dial(cctx, addr)
	cancel()
	if err != nil {
		return err
	}
	defer cl.Close()

	req, err := json.Marshal(nums)
	if err != nil {
		return err
	}
	// request makes one request with its own deadline.
	request := func(event string, data []byte) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return cl.Request(ctx, event, data)
	}

	// 1. A good request.
	sum, err := request("sum", req)
	if err != nil {
		return fmt.Errorf("sum %s: %w", req, err)
	}
	fmt.Fprintf(out, "sum %s = %s\n", req, sum)

	// 2. A request the handler rejects: an error reply.
	_, err = request("sum", []byte(`"not an array"`))
	var remote *goipc.RemoteError
	switch {
	case errors.As(err, &remote) && errors.Is(err, goipc.ErrRemote):
		fmt.Fprintf(out, "sum \"not an array\": the handler failed: %s\n", remote.Message)
	case err == nil:
		return errors.New(`sum "not an array" succeeded`)
	default:
		return fmt.Errorf(`sum "not an array": %w`, err)
	}

	// 3. An event the server has no handler for.
	_, err = request("product", req)
	switch {
	case errors.Is(err, goipc.ErrNoHandler):
		fmt.Fprintf(out, "product %s: no handler on the server (%v)\n", req, err)
	case err == nil:
		return errors.New("product succeeded")
	default:
		return fmt.Errorf("product %s: %w", req, err)
	}
	return nil
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

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
