package poller

import (
	"net"
	"sync"
	"time"
)

// Engine drives connections: it decodes their input, calls their Handler
// and flushes their outbound queues. Two implementations sit behind it:
// event loops (gnet, on Linux and the BSDs) for servers, and a goroutine
// pair per connection over the standard library (clients, TLS, Windows).
type Engine interface {
	// Add starts driving nc, which the Engine now owns. The Handler's
	// OnOpen runs before Add returns or soon after, on the driving
	// goroutine. It fails only if the engine is closed or nc is unusable.
	Add(nc net.Conn) (*Conn, error)
	// Close closes every connection at once and stops the engine.
	Close() error
}

// Housekeeping intervals: watched connections (a flush waiting for the
// socket to drain, a graceful close under way) are looked at every
// fastInterval while there are any; every connection is looked at once per
// slow interval, a quarter of the partial-frame timeout (clamped), for
// stalled frames. An idle engine wakes only at the slow interval.
const fastInterval = 2 * time.Millisecond

func slowInterval(cfg Config) time.Duration {
	if cfg.PartialTimeout <= 0 {
		return time.Second
	}
	return min(max(cfg.PartialTimeout/4, 10*time.Millisecond), time.Second)
}

// registry tracks an engine's live connections for the housekeeping
// goroutine. It is touched on open, on close, when a connection starts or
// stops needing attention, and by the housekeeper — never per message.
type registry struct {
	mu    sync.Mutex
	conns map[*Conn]struct{}
	watch map[*Conn]struct{}
	kick  chan struct{}
	stop  chan struct{}
	once  sync.Once
}

func (r *registry) init() {
	r.conns = make(map[*Conn]struct{})
	r.watch = make(map[*Conn]struct{})
	r.kick = make(chan struct{}, 1)
	r.stop = make(chan struct{})
}

func (r *registry) add(c *Conn) {
	r.mu.Lock()
	r.conns[c] = struct{}{}
	r.mu.Unlock()
}

func (r *registry) remove(c *Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	delete(r.watch, c)
	r.mu.Unlock()
}

// watchAdd asks the housekeeper to look at c often until unwatch.
func (r *registry) watchAdd(c *Conn) {
	r.mu.Lock()
	_, live := r.conns[c]
	if live {
		r.watch[c] = struct{}{}
	}
	r.mu.Unlock()
	if live {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

func (r *registry) unwatch(c *Conn) {
	r.mu.Lock()
	delete(r.watch, c)
	r.mu.Unlock()
}

func (r *registry) snapshot(dst []*Conn, watched bool) []*Conn {
	r.mu.Lock()
	m := r.conns
	if watched {
		m = r.watch
	}
	for c := range m {
		dst = append(dst, c)
	}
	r.mu.Unlock()
	return dst
}

func (r *registry) close() { r.once.Do(func() { close(r.stop) }) }

// housekeep calls fn for the watched connections every fastInterval while
// there are any, and for all connections every slow interval, until the
// registry closes.
func (r *registry) housekeep(slow time.Duration, fn func(c *Conn, now time.Time)) {
	slowT := time.NewTicker(slow)
	defer slowT.Stop()
	fast := time.NewTimer(fastInterval)
	fast.Stop()
	var buf []*Conn
	run := func(now time.Time, watched bool) int {
		buf = r.snapshot(buf[:0], watched)
		for _, c := range buf {
			fn(c, now)
		}
		n := len(buf)
		clear(buf)
		return n
	}
	for {
		select {
		case <-r.stop:
			return
		case now := <-slowT.C:
			run(now, false)
		case <-r.kick:
			fast.Reset(fastInterval)
		case now := <-fast.C:
			if run(now, true) > 0 {
				fast.Reset(fastInterval)
			}
		}
	}
}
