//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package poller

import (
	"errors"
	"sync/atomic"
	"time"
)

// loopSpin is Linux-only (see spin_linux.go): on kqueue systems event
// loops do not busy-poll, and Config.BusyPoll applies to nothing there.
type loopSpin struct{}

func newLoopSpin(time.Duration, *atomic.Int32) (*loopSpin, error) {
	return nil, errors.New("busy polling is implemented on Linux only")
}

func (*loopSpin) add(int) error { return nil }
func (*loopSpin) remove(int)    {}
func (*loopSpin) spin()         {}
func (*loopSpin) close()        {}
