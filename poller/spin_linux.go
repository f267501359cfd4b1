//go:build linux

package poller

import (
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// loopSpin is an event loop's busy-poll set (Config.BusyPoll): an epoll
// instance of its own, apart from gnet's, holding the loop's connections
// and its waker for input, level-triggered. When a turn of the loop has
// handled a connection, spin polls the set without blocking until one of
// them is ready or the budget is spent, then returns to gnet, whose next
// epoll_wait (non-blocking after a turn) finds whatever ended the spin.
//
// The set holds every connection of the loop, not only the one just
// handled, so one connection's spin never holds up another's input: input
// anywhere on the loop ends it. gnet's own task queue is not in the set:
// instead the engine counts the tasks it queued and has not seen run
// (enrolling a connection, closing one, stopping), and a spin ends while
// there are any. Only gnet's Wake, the fallback of a loop without a
// waker, is not counted: it waits for the spin to end.
//
// Whether a turn spins at all is gov's call (spinGov): where the loop's
// spins mostly fail, running out or finding input only after the loop
// was off the CPU, it stops spinning but for an occasional probe.
//
// Used by its loop only, but for close, which runs after the loops stop.
type loopSpin struct {
	epfd  int
	tasks *atomic.Int32 // LoopEngine.tasks
	ev    [1]unix.EpollEvent
	gov   spinGov       // the budget; whether a turn spins (not where spins mostly fail)
	spins atomic.Uint64 // spins begun: the tests' evidence of spinning
}

// newLoopSpin returns a busy-poll set spinning up to budget each time,
// and never while tasks is positive.
func newLoopSpin(budget time.Duration, tasks *atomic.Int32) (*loopSpin, error) {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &loopSpin{epfd: fd, tasks: tasks, gov: spinGov{budget: budget}}, nil
}

// add puts fd in the set.
func (s *loopSpin) add(fd int) error {
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(s.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

// remove takes fd out of the set; fd must still be open (an entry lives
// as long as any descriptor of the socket does).
func (s *loopSpin) remove(fd int) {
	_ = unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, fd, nil)
}

// spin polls the set until a member has input (or an end or an error),
// the budget is spent or gnet has tasks to run, yielding to the process's
// other goroutines between polls: with GOMAXPROCS 1 they run only then.
// When the set is empty at the first poll, gov decides whether to spin at
// all, and learns how the spin went.
func (s *loopSpin) spin() {
	spinning := false
	for {
		if s.tasks.Load() > 0 {
			return
		}
		if spinning {
			s.gov.poll()
		}
		n, err := unix.EpollWait(s.epfd, s.ev[:], 0)
		if n > 0 || err != nil && err != unix.EINTR {
			if n > 0 && spinning {
				s.gov.found()
			}
			return
		}
		if !spinning {
			if !s.gov.begin() {
				return
			}
			spinning = true
			s.spins.Add(1)
		} else if !s.gov.more() {
			return
		}
		runtime.Gosched()
	}
}

func (s *loopSpin) close() { _ = unix.Close(s.epfd) }
