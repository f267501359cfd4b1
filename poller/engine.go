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

// housekeepInterval is how often the housekeeper looks at connections.
func housekeepInterval(cfg Config) time.Duration {
	d := 5 * time.Millisecond
	if cfg.PartialTimeout > 0 && cfg.PartialTimeout/4 < d {
		d = max(cfg.PartialTimeout/4, time.Millisecond)
	}
	return d
}

// registry tracks an engine's live connections for the housekeeping
// goroutine: graceful closes waiting on the socket, congested flushes and
// partial-frame timeouts. It is touched on open, on close and by the
// housekeeper, never per message.
type registry struct {
	mu    sync.Mutex
	conns map[*Conn]struct{}
	stop  chan struct{}
	once  sync.Once
}

func (r *registry) init() {
	r.conns = make(map[*Conn]struct{})
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
	r.mu.Unlock()
}

func (r *registry) snapshot(dst []*Conn) []*Conn {
	r.mu.Lock()
	for c := range r.conns {
		dst = append(dst, c)
	}
	r.mu.Unlock()
	return dst
}

func (r *registry) close() { r.once.Do(func() { close(r.stop) }) }

// housekeep runs every interval until the registry closes, calling fn
// with the current time for each connection.
func (r *registry) housekeep(interval time.Duration, fn func(c *Conn, now time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var buf []*Conn
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			buf = r.snapshot(buf[:0])
			for _, c := range buf {
				fn(c, now)
			}
			clear(buf)
		}
	}
}
