package poller

import "time"

// spinGov times a busy-polling reader's spins (Config.BusyPoll) and
// decides, wait by wait, whether the reader spins at all or sleeps at
// once. Spinning pays only when input can arrive while the reader spins:
// when the peer runs on another CPU, or in this process on another
// goroutine. When nothing comes for longer than the budget (a quiet
// connection), every spin runs out and its CPU is wasted. When the peer
// needs the very CPU the spinner holds (two processes sharing one CPU),
// the peer runs only when the kernel takes the CPU from the spinner, and
// the spin that then finds the peer's input gained nothing: the reader
// was off the CPU in between, as if it had slept, and until then it
// delayed the peer.
//
// So a spin fails when it runs out, or when it finds input after one of
// its polls took govGap or more (a poll is a system call that never
// blocks and takes a microsecond or two: one that takes longer spent the
// rest off the CPU); it succeeds when it finds input otherwise. Only the
// polls are timed, not the runtime.Gosched calls between them, in which
// the process's other goroutines run: time they take is work on this
// CPU, not a wait for it.
//
// The governor keeps a moving average of the failures over about the
// last govWindow spins. Spinning pays even where many spins fail: in one
// process, unpinned, over TCP, two spins in five ran out, and a governor
// that stopped spinning after eight failures in a row cost a third of
// the round trips (docs/BENCHMARKS.md, "Session 10"). So only when more
// than three in four fail does spinning stop, for the next govMinSkip
// waits; the first spin after a skip, the probe, decides alone: if it fails, the next skip is twice as
// long, up to govMaxSkip waits; if it succeeds, spinning is back on (with
// the average at one in two, so that a run of failures stops it again
// sooner). A probe spins for govProbe if that is longer than the budget:
// when both ends of a connection have stopped spinning, each answers only
// after a wake-up, and a round trip between sleeping ends (about 50 µs
// over a Unix socket and 90 µs over TCP between CPUs here) can outlast
// the budget, so probes as short as the spins would fail for good where
// spinning would pay. Where spins keep failing they cost at most one
// probe per govMaxSkip waits. Spins that find input at the first poll,
// or are cut short (queued work, a closing connection), are not spins
// and tell nothing.
//
// Used by one goroutine (the reader or the loop that spins).
type spinGov struct {
	budget time.Duration
	start  time.Time     // of the spin under way
	polled time.Time     // when its latest poll began
	gap    time.Duration // the longest of its polls

	rate uint32 // the failures' moving average, in 1/govScale
	skip uint32 // waits left that sleep without spinning
	next uint32 // the length of the current skip; 0: spinning is on, else each spin is a probe
}

const (
	govGap     = 10 * time.Microsecond  // a poll that took longer: the spinner was off the CPU
	govScale   = 1 << 16                // govScale/govWindow must be a whole number
	govWindow  = 16                     // the moving average's reach, in spins
	govStop    = govScale * 3 / 4       // the rate above which spinning stops
	govMinSkip = 16                     // waits without spinning when it stops
	govMaxSkip = 1024                   // the longest run of waits without spinning
	govProbe   = 250 * time.Microsecond // the shortest probe
)

// begin reports whether a wait whose first poll found nothing spins; if
// so, the spin starts now. A wait that does not spin counts towards the
// end of a skip.
func (g *spinGov) begin() bool {
	if g.skip > 0 {
		g.skip--
		return false
	}
	g.start, g.gap = time.Now(), 0
	return true
}

// probing reports whether spinning is off, so that a spin is a probe.
func (g *spinGov) probing() bool { return g.next > 0 }

// poll notes that a poll of the spin begins.
func (g *spinGov) poll() { g.polled = time.Now() }

// more reports whether a spin whose latest poll found nothing goes on;
// when its budget is spent it has failed, and stops.
func (g *spinGov) more() bool {
	now := g.polledUntil()
	if d := now.Sub(g.start); d < g.budget || g.probing() && d < govProbe {
		return true
	}
	g.done(false)
	return false
}

// found records that a spin's latest poll found input.
func (g *spinGov) found() {
	g.polledUntil()
	g.done(g.gap < govGap)
}

// polledUntil notes that the latest poll ended now, and returns now.
func (g *spinGov) polledUntil() time.Time {
	now := time.Now()
	g.gap = max(g.gap, now.Sub(g.polled))
	return now
}

// done records a spin's outcome.
func (g *spinGov) done(ok bool) {
	if g.probing() {
		if ok {
			g.rate, g.next = govScale/2, 0
		} else {
			g.next = min(2*g.next, govMaxSkip)
			g.skip = g.next
		}
		return
	}
	g.rate -= g.rate / govWindow
	if !ok {
		g.rate += govScale / govWindow
	}
	if g.rate > govStop {
		g.next, g.skip = govMinSkip, govMinSkip
	}
}
