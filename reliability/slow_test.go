//go:build linux

package reliability

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

// Slow consumers: a raw socket that never reads and a goipc client whose
// handler blocks sit on the same server as a fast client, while the server
// broadcasts and also emits straight to the fast client. For every policy:
// the server's heap stays within the two slow connections' MaxPending plus
// a small slack, the policy's documented effect is observed, and the fast
// client keeps receiving at full rate.
func TestSlowConsumer(t *testing.T) {
	for _, pol := range []struct {
		name string
		p    goipc.Policy
	}{{"refuse", goipc.Refuse}, {"block", goipc.Block}, {"disconnect", goipc.Disconnect}} {
		t.Run(pol.name, func(t *testing.T) {
			forNetworks(t, func(t *testing.T, network string) { testSlowConsumer(t, network, pol.p) })
		})
	}
}

func testSlowConsumer(t *testing.T, network string, policy goipc.Policy) {
	const (
		maxPending   = 4 << 20
		blockTimeout = time.Second // long, so that a Broadcast that waited would stand out from scheduling noise
		msgSize      = 2 << 10
		// The heap may exceed the bound by this much: the fast client's
		// buffers, the test's own bookkeeping and garbage not yet
		// collected between samples.
		slack = 4 << 20
	)
	perTick := 8 // per millisecond, for the broadcast and for the direct emits: 2×16 MB/s
	if raceEnabled {
		perTick = 2
		t.Logf("race detector: %d messages per ms instead of 8", perTick)
	}
	codec := goipc.EventCodec().WithMaxFrame(64 << 10)
	srv := newServer(t, listenAddr(t, network), goipc.WithCodec(codec), goipc.WithMaxPending(maxPending, policy, blockTimeout))
	conns := make(chan *goipc.Conn, 8)
	srv.OnConnect(func(c *goipc.Conn) { conns <- c })
	start(t, srv)
	next := func(what string) *goipc.Conn {
		select {
		case c := <-conns:
			return c
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not connect", what)
			return nil
		}
	}

	// 1. A raw socket that connects and never reads.
	nw, a := splitAddr(srv.Addr())
	raw, err := net.Dial(nw, a)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rawConn := next("raw slow peer")

	// 2. A goipc client whose handler blocks on its first message.
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the client's Close (cleanups run last-in first-out)
	blocked := dialClient(t, srv.Addr(), func(cl *goipc.Client) {
		cl.HandleAny(func(m goipc.Message) { <-release })
	}, goipc.WithCodec(codec))
	t.Cleanup(unblock)
	_ = blocked
	blockedConn := next("blocked client")

	// 3. A fast client counting what it gets.
	var ticks, direct atomic.Int64
	dialClient(t, srv.Addr(), func(cl *goipc.Client) {
		cl.Handle("tick", func(goipc.Message) { ticks.Add(1) })
		cl.Handle("direct", func(goipc.Message) { direct.Add(1) })
	}, goipc.WithCodec(codec))
	fastConn := next("fast client")

	base := memSnapshot()
	payload := []byte(strings.Repeat("x", msgSize))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bcasts, bcastReached, bcastBP, bcastOther, directOK, directErr atomic.Int64
	var longestFail atomic.Int64
	// Broadcaster.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			for range perTick {
				t0 := time.Now()
				n, err := srv.Broadcast("tick", payload)
				bcasts.Add(1)
				bcastReached.Add(int64(n))
				switch {
				case err == nil:
				case errors.Is(err, goipc.ErrClosed) && policy == goipc.Disconnect:
					// A peer just dropped by the policy, still in the
					// snapshot Broadcast walks.
				case errors.Is(err, goipc.ErrBackpressure):
					bcastBP.Add(1)
					if d := int64(time.Since(t0)); d > longestFail.Load() {
						longestFail.Store(d)
					}
				default:
					bcastOther.Add(1)
				}
			}
		}
	}()
	// Direct emits to the fast client only.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			for range perTick {
				if err := fastConn.Emit("direct", payload); err != nil {
					directErr.Add(1)
				} else {
					directOK.Add(1)
				}
			}
		}
	}()
	// Memory sampler.
	var peakHeap, peakPending atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		var ms = new(runtimeMemStats)
		for {
			select {
			case <-stop:
				return
			case <-tk.C:
			}
			ms.read()
			if h := int64(ms.HeapAlloc); h > peakHeap.Load() {
				peakHeap.Store(h)
			}
			for _, c := range []*goipc.Conn{rawConn, blockedConn} {
				if p := int64(c.Pending()); p > peakPending.Load() {
					peakPending.Store(p)
				}
			}
		}
	}()

	// Run until the policy has bitten on both slow peers, and at least a
	// second.
	began := time.Now()
	effect := func() bool {
		if policy == goipc.Disconnect {
			return isDone(rawConn) && isDone(blockedConn)
		}
		return bcastBP.Load() > 0 && rawConn.Pending() > maxPending/2 && blockedConn.Pending() > maxPending/2
	}
	waitUntil(t, 20*time.Second, "the policy to apply to both slow peers", effect)
	bitAfter := time.Since(began)
	for time.Since(began) < time.Second {
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(began)
	// The fast client gets every direct message queued for it.
	waitUntil(t, 10*time.Second, "the fast client to drain", func() bool { return direct.Load() >= directOK.Load() })
	end := memSnapshot()
	rawErr, blockedErr := rawConn.Err(), blockedConn.Err()
	rawDone, blockedDone := isDone(rawConn), isDone(blockedConn)
	var dropped runtime.MemStats
	if policy == goipc.Disconnect {
		// Drop the test's own references to the closed Conns: their
		// memory must then be collectable.
		rawConn, blockedConn = nil, nil
		dropped = memSnapshot()
	}

	t.Logf("%v: policy applied after %v; %d broadcasts (%d deliveries, %d with ErrBackpressure, longest failing Broadcast %v)",
		elapsed.Round(time.Millisecond), bitAfter.Round(time.Millisecond), bcasts.Load(), bcastReached.Load(), bcastBP.Load(),
		time.Duration(longestFail.Load()).Round(time.Millisecond))
	t.Logf("fast client: %d ticks + %d direct = %.0f msg/s (%.1f MB/s); direct emit errors %d",
		ticks.Load(), direct.Load(), float64(ticks.Load()+direct.Load())/elapsed.Seconds(),
		float64((ticks.Load()+direct.Load())*msgSize)/elapsed.Seconds()/1e6, directErr.Load())
	t.Logf("heap: base %.1f MiB, peak %.1f MiB (+%.1f), after GC %.1f MiB (+%.1f); bound 2×MaxPending %.1f MiB + slack %.1f MiB; peak pending of a slow conn %d",
		mib(base.HeapAlloc), mib(uint64(peakHeap.Load())), mib(uint64(peakHeap.Load())-base.HeapAlloc),
		mib(end.HeapAlloc), mib(end.HeapAlloc-min(end.HeapAlloc, base.HeapAlloc)), mib(2*maxPending), mib(slack), peakPending.Load())

	if p := peakPending.Load(); p > maxPending {
		t.Errorf("a slow connection held %d pending bytes, bound %d", p, maxPending)
	}
	if grow := peakHeap.Load() - int64(base.HeapAlloc); grow > 2*maxPending+slack {
		t.Errorf("heap grew by %.1f MiB at peak, bound %.1f MiB", mib(uint64(grow)), mib(2*maxPending+slack))
	}
	if end.HeapAlloc > base.HeapAlloc+2*maxPending+slack {
		t.Errorf("heap after GC %.1f MiB over base, bound %.1f MiB", mib(end.HeapAlloc-base.HeapAlloc), mib(2*maxPending+slack))
	}
	if bcastOther.Load() != 0 {
		t.Errorf("%d broadcasts failed with an error other than ErrBackpressure", bcastOther.Load())
	}
	switch policy {
	case goipc.Refuse, goipc.Block:
		if bcastBP.Load() == 0 {
			t.Error("no ErrBackpressure")
		}
		if rawDone || blockedDone {
			t.Error("a slow peer was disconnected; the policy only refuses")
		}
		// Broadcast never waits for room, whatever the policy: one slow
		// peer must not hold up the others (Block applies to Emit).
		if longest := time.Duration(longestFail.Load()); longest >= blockTimeout {
			t.Errorf("a failing Broadcast took %v: it waited for a slow peer (block timeout %v)", longest, blockTimeout)
		}
	case goipc.Disconnect:
		for name, err := range map[string]error{"raw": rawErr, "blocked": blockedErr} {
			if !errors.Is(err, goipc.ErrBackpressure) {
				t.Errorf("%s slow peer closed with %v, want ErrBackpressure", name, err)
			}
		}
		t.Logf("after the slow peers were disconnected: heap %.1f MiB over base while the test holds their *Conn, %.1f MiB once it lets go",
			mib(end.HeapAlloc-min(end.HeapAlloc, base.HeapAlloc)), mib(dropped.HeapAlloc-min(dropped.HeapAlloc, base.HeapAlloc)))
		// Once they are gone their queues are freed.
		if dropped.HeapAlloc > base.HeapAlloc+slack {
			t.Errorf("after the slow peers were dropped, heap is %.1f MiB over base", mib(dropped.HeapAlloc-base.HeapAlloc))
		}
	}
	if isDone(fastConn) {
		t.Fatalf("fast client disconnected: %v", fastConn.Err())
	}
	if directErr.Load() != 0 {
		t.Errorf("%d direct emits to the fast client failed", directErr.Load())
	}
	// At least a quarter of the nominal direct rate (perTick per ms; the
	// ticker itself drops ticks on a busy machine) got through.
	if want := int64(float64(perTick) * 1000 * elapsed.Seconds() / 4); direct.Load() < want {
		t.Errorf("fast client got %d direct messages in %v, want at least %d", direct.Load(), elapsed, want)
	}
}

func isDone(c *goipc.Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}
