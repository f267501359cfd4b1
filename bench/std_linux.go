//go:build linux

package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// stdImpl is what a Go developer writes in an afternoon: net + bufio (64 KiB
// each way) and a 4-byte big-endian length prefix, a goroutine per
// connection; the same approach as the root package's Std benchmarks.
type stdImpl struct{}

func (stdImpl) Name() string                          { return ImplStd }
func (stdImpl) InProcess() bool                       { return true }
func (stdImpl) Available(context.Context, *Env) error { return nil }

const stdBuf = 64 << 10

func stdListen(env *Env, transport string) (net.Listener, error) {
	if transport == "unix" {
		return net.Listen("unix", filepath.Join(env.Dir, "s"+strconv.FormatInt(addrSeq.Add(1), 10)+".sock"))
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// stdCount reads frames from c until it fails, counting them in n; size
// is the payload size expected (the buffer grows if one is larger).
func stdCount(c net.Conn, size int, n *atomic.Int64) {
	br := bufio.NewReaderSize(c, stdBuf)
	var hdr [4]byte
	buf := make([]byte, 0, size)
	for {
		var err error
		if buf, err = stdRead(br, &hdr, buf); err != nil {
			return
		}
		n.Add(1)
	}
}

func stdRead(br *bufio.Reader, hdr *[4]byte, buf []byte) ([]byte, error) {
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return buf, err
	}
	n := int(binary.BigEndian.Uint32(hdr[:]))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(br, buf)
	return buf, err
}

func stdWrite(bw *bufio.Writer, hdr *[4]byte, p []byte) error {
	binary.BigEndian.PutUint32(hdr[:], uint32(len(p)))
	if _, err := bw.Write(hdr[:]); err != nil {
		return err
	}
	_, err := bw.Write(p)
	return err
}

// stdServe accepts connections and runs fn on each in its own goroutine;
// stop closes the listener and every connection and waits.
func stdServe(ln net.Listener, fn func(net.Conn)) (stop func()) {
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); fn(c) }()
		}
	}()
	return func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	}
}

func (stdImpl) Stream(ctx context.Context, env *Env, w Workload) (Measure, error) {
	ln, err := stdListen(env, w.Transport)
	if err != nil {
		return Measure{}, err
	}
	var n atomic.Int64
	stop := stdServe(ln, func(c net.Conn) { stdCount(c, w.Size, &n) })
	defer stop()
	cc, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		return Measure{}, err
	}
	defer cc.Close()
	var halt atomic.Bool
	done := make(chan error, 1)
	go func() {
		bw := bufio.NewWriterSize(cc, stdBuf)
		hdr := new([4]byte)
		p := make([]byte, w.Size)
		for !halt.Load() {
			for range 64 {
				if err := stdWrite(bw, hdr, p); err != nil {
					done <- err
					return
				}
			}
		}
		done <- bw.Flush()
	}()
	m, err := window(ctx, env, n.Load)
	halt.Store(true)
	if werr := <-done; werr != nil && err == nil {
		err = werr
	}
	return m, err
}

func (stdImpl) RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error) {
	ln, err := stdListen(env, w.Transport)
	if err != nil {
		return Measure{}, err
	}
	stop := stdServe(ln, func(c net.Conn) {
		br := bufio.NewReaderSize(c, stdBuf)
		bw := bufio.NewWriterSize(c, stdBuf)
		whdr := new([4]byte)
		var hdr [4]byte
		buf := make([]byte, 0, w.Size)
		for {
			var err error
			if buf, err = stdRead(br, &hdr, buf); err != nil {
				return
			}
			if err = stdWrite(bw, whdr, buf); err != nil {
				return
			}
			if br.Buffered() == 0 {
				if err = bw.Flush(); err != nil {
					return
				}
			}
		}
	})
	defer stop()
	cc, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		return Measure{}, err
	}
	r := newRTT(w.Window)
	var halt atomic.Bool
	done := make(chan error, 1)
	go func() {
		br := bufio.NewReaderSize(cc, stdBuf)
		bw := bufio.NewWriterSize(cc, stdBuf)
		whdr := new([4]byte)
		var hdr [4]byte
		p := make([]byte, w.Size)
		buf := make([]byte, 0, w.Size)
		for range w.Window {
			r.sent()
			if err := stdWrite(bw, whdr, p); err != nil {
				done <- err
				return
			}
		}
		if err := bw.Flush(); err != nil {
			done <- err
			return
		}
		for !halt.Load() {
			var err error
			if buf, err = stdRead(br, &hdr, buf); err != nil {
				done <- err
				return
			}
			r.sentAt(r.got())
			if err = stdWrite(bw, whdr, p); err != nil {
				done <- err
				return
			}
			if br.Buffered() == 0 {
				if err = bw.Flush(); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	m, err := r.measure(ctx, env)
	halt.Store(true)
	cc.Close()
	<-done
	return m, err
}

func (stdImpl) UDP(ctx context.Context, env *Env, w Workload) (Measure, error) {
	rc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return Measure{}, err
	}
	defer rc.Close()
	rc.SetReadBuffer(4 << 20)
	sc, err := net.DialUDP("udp4", nil, rc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		return Measure{}, err
	}
	defer sc.Close()
	var n atomic.Int64
	var halt atomic.Bool
	rdone := make(chan struct{})
	go func() {
		defer close(rdone)
		buf := make([]byte, 2048)
		for !halt.Load() {
			rc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			for range 256 {
				if _, _, err := rc.ReadFromUDPAddrPort(buf); err != nil {
					break
				}
				n.Add(1)
			}
		}
	}()
	sdone := make(chan struct{})
	go func() {
		defer close(sdone)
		p := make([]byte, w.Size)
		for !halt.Load() {
			sc.Write(p) // ECONNREFUSED/ENOBUFS: keep going, loss is measured at the receiver
		}
	}()
	m, err := window(ctx, env, n.Load)
	halt.Store(true)
	<-sdone
	<-rdone
	m.Note = "received datagrams"
	return m, err
}

func (stdImpl) Broadcast(ctx context.Context, env *Env, w Workload) (Measure, error) {
	ln, err := stdListen(env, w.Transport)
	if err != nil {
		return Measure{}, err
	}
	defer ln.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	var clients []net.Conn
	defer func() {
		for _, c := range clients {
			c.Close()
		}
		wg.Wait()
	}()
	var servers []net.Conn
	defer func() {
		for _, c := range servers {
			c.Close()
		}
	}()
	for range w.Clients {
		cc, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
		if err != nil {
			return Measure{}, err
		}
		clients = append(clients, cc)
		sc, err := ln.Accept()
		if err != nil {
			return Measure{}, err
		}
		servers = append(servers, sc)
		wg.Add(1)
		go func() {
			defer wg.Done()
			stdCount(cc, w.Size, &n)
		}()
	}
	// The broadcaster writes each message into every client's bufio.Writer
	// (which writes when full), then flushes all every 64 messages.
	var halt atomic.Bool
	done := make(chan error, 1)
	go func() {
		bws := make([]*bufio.Writer, len(servers))
		for i, c := range servers {
			bws[i] = bufio.NewWriterSize(c, stdBuf)
		}
		hdr := new([4]byte)
		p := make([]byte, w.Size)
		for !halt.Load() {
			for range 64 {
				for _, bw := range bws {
					if err := stdWrite(bw, hdr, p); err != nil {
						done <- err
						return
					}
				}
			}
			for _, bw := range bws {
				if err := bw.Flush(); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	m, err := window(ctx, env, n.Load)
	halt.Store(true)
	if werr := <-done; werr != nil && err == nil {
		err = werr
	}
	m.Note = "deliveries/s (broadcasts × clients)"
	return m, err
}

func (stdImpl) Idle(ctx context.Context, env *Env, w Workload) (Measure, error) {
	before := memSnapshot()
	ln, err := stdListen(env, "unix")
	if err != nil {
		return Measure{}, err
	}
	var conns atomic.Int64
	// A goroutine per connection with bufio's default 4 KiB buffers: the
	// afternoon version of an echo server.
	stop := stdServe(ln, func(c net.Conn) {
		conns.Add(1)
		br := bufio.NewReader(c)
		bw := bufio.NewWriter(c)
		var hdr, whdr [4]byte
		var buf []byte
		for {
			var err error
			if buf, err = stdRead(br, &hdr, buf); err != nil {
				return
			}
			if err = stdWrite(bw, &whdr, buf); err != nil {
				return
			}
			if err = bw.Flush(); err != nil {
				return
			}
		}
	})
	defer stop()
	m, err := idleRun(ctx, env, w, ln.Addr().String(), &conns, before, rawFrame(w.Size, false))
	if err != nil && errors.Is(err, context.Canceled) {
		return m, err
	}
	return m, err
}
