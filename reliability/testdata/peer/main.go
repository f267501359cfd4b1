// Command peer is a helper process for goipc's reliability tests (built by
// TestMain, never installed).
//
//	peer serve ADDR      serve ADDR with the event codec; print "ready ADDR",
//	                     then "msg EVENT DATA" for every message received
//	peer hold NET ADDR N open N idle connections to ADDR; print "held N",
//	                     keep them until stdin closes
//
// Holding connections in another process keeps the test process's file
// descriptors for the server side (RLIMIT_NOFILE is per process).
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	"github.com/seed-fc4a2f4b/goipc"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: peer serve ADDR | peer hold NET ADDR N")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2])
	case "hold":
		if len(os.Args) != 5 {
			os.Exit(2)
		}
		n, err := strconv.Atoi(os.Args[4])
		if err != nil {
			fail(err)
		}
		hold(os.Args[2], os.Args[3], n)
	default:
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "peer:", err)
	os.Exit(1)
}

func serve(addr string) {
	srv, err := goipc.Listen(addr, goipc.WithCodec(goipc.EventCodec()))
	if err != nil {
		fail(err)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	srv.HandleAny(func(c *goipc.Conn, m goipc.Message) {
		mu.Lock()
		fmt.Fprintf(out, "msg %s %s\n", m.Event, m.Data)
		out.Flush()
		mu.Unlock()
	})
	mu.Lock()
	fmt.Fprintf(out, "ready %s\n", srv.Addr())
	out.Flush()
	mu.Unlock()
	if err := srv.Serve(context.Background()); err != nil {
		fail(err)
	}
}

func hold(network, addr string, n int) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	// Blocking sockets through syscalls: no Go heap, no poller, no
	// goroutines per connection.
	family := syscall.AF_UNIX
	var sa syscall.Sockaddr = &syscall.SockaddrUnix{Name: addr}
	if network == "tcp" {
		ta, err := net.ResolveTCPAddr("tcp4", addr)
		if err != nil {
			fail(err)
		}
		family = syscall.AF_INET
		sa4 := &syscall.SockaddrInet4{Port: ta.Port}
		copy(sa4.Addr[:], ta.IP.To4())
		sa = sa4
	}
	fds := make([]int, 0, n)
	for range n {
		fd, err := syscall.Socket(family, syscall.SOCK_STREAM, 0)
		if err != nil {
			fail(fmt.Errorf("socket after %d: %w", len(fds), err))
		}
		for {
			err = syscall.Connect(fd, sa)
			if err != syscall.EINTR && err != syscall.EAGAIN {
				break
			}
		}
		if err != nil {
			fail(fmt.Errorf("connect after %d: %w", len(fds), err))
		}
		fds = append(fds, fd)
	}
	fmt.Printf("held %d\n", len(fds))
	io.Copy(io.Discard, os.Stdin)
	for _, fd := range fds {
		syscall.Close(fd)
	}
}
