package poller

import (
	"testing"
	"time"
)

// govRun counts how many of n waits gov lets spin, each allowed spin
// ending as outcome says (called with the spin's number).
func govRun(g *spinGov, n int, outcome func(i int) bool) (spun int) {
	for i := range n {
		if g.begin() {
			spun++
			g.done(outcome(i))
		}
	}
	return spun
}

var (
	succeed = func(int) bool { return true }
	fail    = func(int) bool { return false }
)

// untilStopped fails spins until gov stops spinning and returns how many
// it took, failing the test past limit.
func untilStopped(t *testing.T, g *spinGov, limit int) int {
	t.Helper()
	for i := 1; i <= limit; i++ {
		if !g.begin() {
			t.Fatalf("a spin was refused while spinning was on")
		}
		g.done(false)
		if g.skip > 0 {
			return i
		}
	}
	t.Fatalf("%d failed spins in a row: spinning goes on", limit)
	return 0
}

// TestSpinGov checks the busy-poll governor: spinning goes on while no
// more than three spins in four fail, stops when nearly all fail, for
// skips that double up to govMaxSkip, and a probe that succeeds turns it
// back on.
func TestSpinGov(t *testing.T) {
	var g spinGov
	if n := govRun(&g, 1000, succeed); n != 1000 {
		t.Fatalf("spins that find input: %d of 1000 waits spun, want all", n)
	}
	// Two in five failing (as in one process, unpinned), and even two in
	// three, never stop spinning.
	if n := govRun(&g, 10000, func(i int) bool { return i%5 >= 2 }); n != 10000 {
		t.Fatalf("two in five failing: %d of 10000 waits spun, want all", n)
	}
	if n := govRun(&g, 10000, func(i int) bool { return i%3 == 0 }); n != 10000 {
		t.Fatalf("two in three failing: %d of 10000 waits spun, want all", n)
	}

	// All failing: spinning stops within two windows, then the shortest
	// skip, then one probe.
	untilStopped(t, &g, 2*govWindow)
	for skip := govMinSkip; ; skip *= 2 {
		skip = min(skip, govMaxSkip)
		if n := govRun(&g, skip, fail); n != 0 {
			t.Fatalf("skip of %d waits: %d spun, want none", skip, n)
		}
		if !g.begin() {
			t.Fatalf("the wait after a skip of %d does not probe", skip)
		}
		if !g.probing() {
			t.Fatalf("the spin after a skip of %d is not a probe", skip)
		}
		g.done(false)
		if skip == govMaxSkip {
			break
		}
	}
	// At the cap the skips stay at govMaxSkip: one spin per govMaxSkip+1 waits.
	if n := govRun(&g, 10*(govMaxSkip+1), fail); n != 10 {
		t.Fatalf("at the cap: %d of %d waits spun, want 10", n, 10*(govMaxSkip+1))
	}

	// A probe that finds input turns spinning back on ...
	for !g.begin() {
	}
	g.done(true)
	if n := govRun(&g, 500, succeed); n != 500 {
		t.Fatalf("after a probe found input: %d of 500 waits spun", n)
	}
	// ... and after a run of successes it takes as many failures as at
	// first to stop it again, with the shortest skip.
	first := untilStopped(t, &spinGov{}, 2*govWindow)
	if n := untilStopped(t, &g, 2*govWindow); n != first {
		t.Fatalf("after recovering: stopped after %d failures, at first after %d", n, first)
	}
	if n := govRun(&g, govMinSkip, fail); n != 0 {
		t.Fatalf("the shortest skip: %d spun", n)
	}
	// A probe that succeeds leaves the average at one in two: fewer
	// failures than from none stop spinning again.
	if !g.begin() || !g.probing() {
		t.Fatal("no probe after the shortest skip")
	}
	g.done(true)
	if n := untilStopped(t, &g, 2*govWindow); n >= first {
		t.Fatalf("right after a probe found input: stopped after %d failures, want fewer than %d", n, first)
	}
}

// TestSpinGovLongPoll checks that input found after a poll that took
// govGap or more (the spinner was off the CPU, and the peer ran on it)
// counts as a failure, and that time between polls (runtime.Gosched,
// where the process's own goroutines run) does not.
func TestSpinGovLongPoll(t *testing.T) {
	g := spinGov{budget: time.Hour}
	spin := func(pollTook, between time.Duration) {
		t.Helper()
		if !g.begin() {
			t.Fatal("a spin was not allowed")
		}
		time.Sleep(between) // the process's goroutines run (runtime.Gosched)
		g.poll()
		if pollTook == 0 {
			// A poll that took no time, however long this goroutine is
			// held up before found reads the clock.
			g.polled = g.polled.Add(time.Hour)
		} else {
			g.polled = g.polled.Add(-pollTook) // as if the poll began that long ago
		}
		g.found()
	}
	for range 2 * govWindow {
		spin(0, 2*govGap)
	}
	if g.rate != 0 {
		t.Fatalf("spins that found input after quick polls, with %v between: failure rate %d/%d, want 0", 2*govGap, g.rate, govScale)
	}
	for range 2 * govWindow {
		spin(2*govGap, 0)
		if g.skip > 0 {
			return
		}
	}
	t.Fatalf("%d spins that found input after a long poll: spinning goes on", 2*govWindow)
}

// TestSpinGovProbe checks that a probe lasts govProbe when the budget is
// shorter, and other spins the budget.
func TestSpinGovProbe(t *testing.T) {
	g := spinGov{budget: time.Microsecond}
	for i := 0; g.skip == 0; i++ {
		if i == 2*govWindow {
			t.Fatalf("%d spins ran out: spinning goes on", i)
		}
		if !g.begin() {
			t.Fatalf("spin %d not allowed", i)
		}
		g.start = g.start.Add(-time.Millisecond) // its budget is spent
		g.poll()
		if g.more() {
			t.Fatalf("spin %d goes on past its budget", i)
		}
	}
	for range govMinSkip {
		if g.begin() {
			t.Fatal("a spin during the skip")
		}
	}
	if !g.begin() {
		t.Fatal("no probe after the skip")
	}
	g.start = g.start.Add(-2 * g.budget) // past the budget, well short of govProbe
	g.poll()
	if !g.more() {
		t.Fatalf("a probe ends after about %v, before %v", 2*g.budget, govProbe)
	}
	g.start = g.start.Add(-govProbe)
	g.poll()
	if g.more() {
		t.Fatalf("a probe goes on after %v", govProbe*3/2)
	}
}
