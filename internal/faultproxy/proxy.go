// Package faultproxy is an in-process TCP and Unix-socket proxy that
// injects faults, for goipc's reliability tests (tc netem is not
// available here).
//
// A Proxy listens on one address and, for every connection it accepts,
// dials the target and forwards bytes both ways. Faults are set at run
// time, per direction (Up: accepted side → target, Down: target →
// accepted side), and apply to every connection, current and future:
//
//   - Split writes into chunks of N bytes, or of random sizes in [1, N]
//     drawn from a seeded generator (deterministic per connection).
//   - Delay each chunk.
//   - Stall: stop forwarding until Resume.
//   - Cut (close both sides of) every current connection, or Reset them
//     (SO_LINGER 0 on TCP, so the peers see ECONNRESET; Unix sockets have
//     no reset and are closed), at once or after exactly K more bytes in
//     one direction — to cut in the middle of a frame.
//   - Refuse new connections: they are accepted and closed at once (reset
//     on TCP) before any byte.
//
// A proxy never reorders, duplicates or alters bytes: faults only split,
// slow, stop or end the stream. All methods are safe for concurrent use.
package faultproxy

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is one way of a proxied connection.
type Direction int

const (
	// Up is from the accepted (client) side to the target.
	Up Direction = iota
	// Down is from the target to the accepted (client) side.
	Down
)

func (d Direction) String() string {
	if d == Up {
		return "up"
	}
	return "down"
}

// Action is what happens after a byte budget (After) runs out.
type Action int

const (
	// ActCut closes both sides of every current connection.
	ActCut Action = iota
	// ActReset resets every current connection (SO_LINGER 0 on TCP).
	ActReset
	// ActStall stalls the direction until Resume.
	ActStall
)

// bufSize is the read buffer of each direction.
const bufSize = 32 << 10

// dir is the fault state of one direction.
type dir struct {
	mu      sync.Mutex
	chunk   int    // 0: forward what was read as is
	random  bool   // chunk sizes uniform in [1, chunk]
	seed    uint64 // for random chunks; each connection derives its own stream
	delay   time.Duration
	gate    chan struct{} // non-nil while stalled; closed by Resume
	budget  int64         // bytes until act; -1 when no action is armed
	act     Action
	fired   chan struct{} // closed when the armed action has fired
	forward atomic.Int64  // bytes forwarded, all connections
}

// Proxy forwards connections from its listener to a target, with faults.
type Proxy struct {
	ln            net.Listener
	targetNetwork string
	targetAddr    string
	dirs          [2]dir
	refuse        atomic.Bool
	accepted      atomic.Int64
	refused       atomic.Int64
	seq           atomic.Uint64

	mu     sync.Mutex
	pairs  map[*pair]struct{}
	closed bool
	wg     sync.WaitGroup
}

// New listens on network/addr ("tcp" "127.0.0.1:0", or "unix" and a
// path) and forwards every accepted connection to targetNetwork/
// targetAddr.
func New(network, addr, targetNetwork, targetAddr string) (*Proxy, error) {
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, targetNetwork: targetNetwork, targetAddr: targetAddr, pairs: make(map[*pair]struct{})}
	for i := range p.dirs {
		p.dirs[i].budget = -1
	}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// Split makes direction d forward in chunks of at most n bytes, one write
// each (n <= 0: as read).
func (p *Proxy) Split(d Direction, n int) {
	s := &p.dirs[d]
	s.mu.Lock()
	s.chunk, s.random = max(n, 0), false
	s.mu.Unlock()
}

// SplitRandom makes direction d forward in chunks of random sizes in
// [1, max], drawn from a generator seeded with seed and the connection's
// sequence number, so a run is reproducible.
func (p *Proxy) SplitRandom(d Direction, max int, seed uint64) {
	s := &p.dirs[d]
	s.mu.Lock()
	s.chunk, s.random, s.seed = max, max > 0, seed
	s.mu.Unlock()
}

// Delay makes direction d wait dt before each chunk (0: no delay).
func (p *Proxy) Delay(d Direction, dt time.Duration) {
	s := &p.dirs[d]
	s.mu.Lock()
	s.delay = dt
	s.mu.Unlock()
}

// Stall stops forwarding in direction d until Resume. Bytes read already
// are held; the sender's socket buffers then fill.
func (p *Proxy) Stall(d Direction) {
	s := &p.dirs[d]
	s.mu.Lock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
	s.mu.Unlock()
}

// Resume ends a stall of direction d.
func (p *Proxy) Resume(d Direction) {
	s := &p.dirs[d]
	s.mu.Lock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
	s.mu.Unlock()
}

// Stalled reports whether direction d is stalled.
func (p *Proxy) Stalled(d Direction) bool {
	s := &p.dirs[d]
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gate != nil
}

// After arms act to happen once exactly k more bytes have been forwarded
// in direction d (counted over all connections; k = 0 fires before the next
// byte). The returned channel is closed when it has fired. A later After
// on the same direction replaces one not yet fired.
func (p *Proxy) After(d Direction, k int64, act Action) <-chan struct{} {
	s := &p.dirs[d]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.budget, s.act, s.fired = max(k, 0), act, make(chan struct{})
	return s.fired
}

// CutAfter closes every current connection once k more bytes went d.
func (p *Proxy) CutAfter(d Direction, k int64) <-chan struct{} { return p.After(d, k, ActCut) }

// ResetAfter resets every current connection once k more bytes went d.
func (p *Proxy) ResetAfter(d Direction, k int64) <-chan struct{} {
	return p.After(d, k, ActReset)
}

// StallAfter stalls direction d once k more bytes went that way.
func (p *Proxy) StallAfter(d Direction, k int64) <-chan struct{} {
	return p.After(d, k, ActStall)
}

// Cut closes both sides of every current connection and returns how many
// it closed.
func (p *Proxy) Cut() int { return p.closeAll(false) }

// Reset resets every current connection (SO_LINGER 0 on TCP; Unix sockets
// are closed) and returns how many.
func (p *Proxy) Reset() int { return p.closeAll(true) }

// Refuse makes the proxy refuse (accept and close at once) new connections
// while on is true.
func (p *Proxy) Refuse(on bool) { p.refuse.Store(on) }

// Clear removes every fault: no split, no delay, no armed action, not
// stalled, not refusing.
func (p *Proxy) Clear() {
	for d := range p.dirs {
		s := &p.dirs[d]
		s.mu.Lock()
		s.chunk, s.random, s.delay, s.budget = 0, false, 0, -1
		if s.gate != nil {
			close(s.gate)
			s.gate = nil
		}
		s.mu.Unlock()
	}
	p.refuse.Store(false)
}

// Conns returns how many connections are being proxied now.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// Stats are a proxy's counters.
type Stats struct {
	Accepted int64    // connections accepted and forwarded
	Refused  int64    // connections refused (Refuse, or the target dial failed)
	Bytes    [2]int64 // bytes forwarded, by Direction
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() Stats {
	return Stats{
		Accepted: p.accepted.Load(),
		Refused:  p.refused.Load(),
		Bytes:    [2]int64{p.dirs[Up].forward.Load(), p.dirs[Down].forward.Load()},
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.closeAll(false)
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		if p.refuse.Load() {
			p.refused.Add(1)
			abort(c)
			continue
		}
		t, err := net.DialTimeout(p.targetNetwork, p.targetAddr, 5*time.Second)
		if err != nil {
			p.refused.Add(1)
			abort(c)
			continue
		}
		pr := &pair{p: p, conns: [2]net.Conn{c, t}, id: p.seq.Add(1), done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			t.Close()
			return
		}
		p.pairs[pr] = struct{}{}
		p.accepted.Add(1)
		p.wg.Add(2)
		p.mu.Unlock()
		go pr.forward(Up, c, t)
		go pr.forward(Down, t, c)
	}
}

// abort closes c with a reset where the transport has one.
func abort(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}

func (p *Proxy) closeAll(reset bool) int {
	p.mu.Lock()
	prs := make([]*pair, 0, len(p.pairs))
	for pr := range p.pairs {
		prs = append(prs, pr)
	}
	p.mu.Unlock()
	for _, pr := range prs {
		pr.close(reset)
	}
	return len(prs)
}

// pair is one proxied connection: the accepted conn and the target conn.
type pair struct {
	p     *Proxy
	conns [2]net.Conn // accepted, target
	id    uint64
	once  sync.Once
	done  chan struct{} // closed by close
	ended atomic.Int32  // directions finished
}

func (pr *pair) close(reset bool) {
	pr.once.Do(func() {
		close(pr.done)
		for _, c := range pr.conns {
			if reset {
				abort(c)
			} else {
				c.Close()
			}
		}
		pr.p.mu.Lock()
		delete(pr.p.pairs, pr)
		pr.p.mu.Unlock()
	})
}

// forward copies src to dst applying direction d's faults. On EOF it
// half-closes dst so the other direction can finish; on an error, or once
// both directions have ended, the pair closes.
func (pr *pair) forward(d Direction, src, dst net.Conn) {
	defer pr.p.wg.Done()
	s := &pr.p.dirs[d]
	buf := make([]byte, bufSize)
	var rng *rand.Rand
	var rngSeed uint64
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !pr.send(d, s, dst, buf[:n], &rng, &rngSeed) {
				pr.close(false)
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
					if pr.ended.Add(1) == 2 {
						pr.close(false)
					}
					return
				}
			}
			pr.close(false)
			return
		}
	}
}

// send writes b to dst in chunks, applying the faults of s. It reports
// false when the pair must close (write error, cut).
func (pr *pair) send(d Direction, s *dir, dst net.Conn, b []byte, rng **rand.Rand, rngSeed *uint64) bool {
	for len(b) > 0 {
		// A stall holds everything until resumed (or the pair closes).
		s.mu.Lock()
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-pr.done:
				return false
			}
			continue
		}
		s.mu.Lock()
		n := len(b)
		if s.chunk > 0 {
			if s.random {
				if *rng == nil || *rngSeed != s.seed {
					*rngSeed = s.seed
					*rng = rand.New(rand.NewPCG(s.seed, pr.id))
				}
				n = min(n, 1+(*rng).IntN(s.chunk))
			} else {
				n = min(n, s.chunk)
			}
		}
		delay := s.delay
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-pr.done:
				t.Stop()
				return false
			}
		}
		// The byte budget is taken under the lock so that exactly k bytes
		// pass, however many connections share the direction.
		s.mu.Lock()
		if s.gate != nil {
			s.mu.Unlock()
			continue
		}
		var fire bool
		var act Action
		var fired chan struct{}
		armed := s.budget >= 0
		if !armed {
			s.mu.Unlock()
		}
		if armed {
			if int64(n) >= s.budget {
				n = int(s.budget)
				fire, act, fired = true, s.act, s.fired
				s.budget = -1
				if act == ActStall {
					s.gate = make(chan struct{})
				}
			} else {
				s.budget -= int64(n)
			}
		}
		if n > 0 {
			// Written under the lock when an action is armed, so no other
			// connection's bytes slip past the budget before it fires.
			// Counted before the write, so a reader that has the bytes
			// also sees them in Stats.
			s.forward.Add(int64(n))
			w, err := dst.Write(b[:n])
			if err == nil {
				b = b[n:]
			} else {
				s.forward.Add(int64(w - n))
			}
			if armed {
				s.mu.Unlock()
			}
			if err != nil {
				return false
			}
		} else if armed {
			s.mu.Unlock()
		}
		if fire {
			switch act {
			case ActCut:
				pr.p.closeAll(false)
			case ActReset:
				pr.p.closeAll(true)
			}
			close(fired)
			if act != ActStall {
				return false
			}
		}
	}
	return true
}
