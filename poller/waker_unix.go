//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	sys "golang.org/x/sys/unix"
)

// loopWaker gets one event loop to flush connections written from other
// goroutines, without allocating: gnet's own Wake and Execute allocate a
// closure per call (measured: 2 allocations per wake), which would make
// every off-loop emit and every broadcast recipient allocate.
//
// Each loop has a Unix socketpair: one end is enrolled into the loop like
// a connection, the other stays with us. A writer appends its connection to
// the loop's pending list and, if the loop isn't already woken, writes one
// byte to our end; the loop's OnTraffic for the waker drains the byte and
// flushes every pending connection. One wake serves any number of writes
// and connections that arrive before the loop gets to it.
type loopWaker struct {
	wfd     int           // our end, non-blocking
	woken   atomic.Bool   // a byte is on its way; writers skip the syscall
	mu      sync.Mutex    // guards pending
	pending []*gnetConn   // connections to flush
	spare   []*gnetConn   // the other half of the double buffer
	gc      gnet.Conn     // the loop's end, set on the loop in OnOpen
	spin    *loopSpin     // the loop's busy-poll set, which holds gc; nil: none
	ready   chan struct{} // closed once the loop end is registered
}

var wakeByte = []byte{1}

// wake queues t and wakes its loop. Safe from any goroutine; allocates
// only when the pending list grows past its largest size so far.
func (w *loopWaker) wake(t *gnetConn) {
	w.mu.Lock()
	w.pending = append(w.pending, t)
	w.mu.Unlock()
	if !w.woken.Swap(true) {
		if _, err := sys.Write(w.wfd, wakeByte); err != nil && err != sys.EAGAIN {
			// The loop end is gone (engine closing): fall back to gnet.
			w.woken.Store(false)
			_ = t.gc.Wake(nil)
		}
	}
}

// drain runs on the loop: it takes the pending connections.
func (w *loopWaker) drain() []*gnetConn {
	w.woken.Store(false)
	w.mu.Lock()
	list := w.pending
	w.pending = w.spare[:0]
	w.mu.Unlock()
	w.spare = list
	return list
}

// waker returns the waker of loop, creating it on first use. Called from
// Add, never on a loop.
func (e *LoopEngine) waker(loop gnet.EventLoop) (*loopWaker, error) {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if w := e.wakers[loop]; w != nil {
		return w, nil
	}
	fds, err := sys.Socketpair(sys.AF_UNIX, sys.SOCK_STREAM, 0)
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	sys.CloseOnExec(fds[0])
	sys.CloseOnExec(fds[1])
	if err := sys.SetNonblock(fds[1], true); err != nil {
		sys.Close(fds[0])
		sys.Close(fds[1])
		return nil, os.NewSyscallError("setnonblock", err)
	}
	f := os.NewFile(uintptr(fds[0]), "goipc-waker")
	nc, err := net.FileConn(f) // dups the descriptor
	f.Close()
	if err != nil {
		sys.Close(fds[1])
		return nil, fmt.Errorf("poller: waker: %w", err)
	}
	w := &loopWaker{wfd: fds[1], ready: make(chan struct{})}
	e.tasks.Add(1)
	defer e.tasks.Add(-1) // once the loop ran OnOpen, or gave up
	ch, err := loop.Enroll(gnet.NewContext(context.Background(), w), nc)
	if err != nil {
		nc.Close()
		sys.Close(fds[1])
		return nil, fmt.Errorf("poller: waker: %w", err)
	}
	select {
	case res := <-ch:
		if res.Err != nil {
			sys.Close(fds[1])
			return nil, fmt.Errorf("poller: waker: %w", res.Err)
		}
	case <-time.After(5 * time.Second):
		sys.Close(fds[1])
		return nil, errors.New("poller: waker: the loop did not register it")
	}
	<-w.ready
	e.wakers[loop] = w
	return w, nil
}

func (e *LoopEngine) closeWakers() {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	for _, w := range e.wakers {
		sys.Close(w.wfd)
	}
	e.wakers = nil
}
