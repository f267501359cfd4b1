//go:build linux

package reliability

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
	"github.com/seed-fc4a2f4b/goipc/internal/faultproxy"
)

var soakFlag = flag.Duration("soak", 0, "run TestSoak for this long (or set GOIPC_SOAK=10m)")

func soakDuration() time.Duration {
	if *soakFlag > 0 {
		return *soakFlag
	}
	if d, err := time.ParseDuration(os.Getenv("GOIPC_SOAK")); err == nil {
		return d
	}
	return 0
}

// soakLane is one server (one codec on one transport) behind a fault
// proxy, with its clients.
type soakLane struct {
	name    string
	codec   goipc.Codec
	srv     *goipc.Server
	proxy   *faultproxy.Proxy
	clients []*goipc.Client

	mu      sync.Mutex
	lastSeq map[int]int // per client: last sequence number the server saw

	// counters
	sent, refusedEmit      atomic.Int64 // client emits accepted / refused (outbox full, backpressure)
	recv, dup, reorder     atomic.Int64 // server side
	gaps                   atomic.Int64 // sequence numbers skipped (lost in a cut)
	ticksOut, ticksIn      atomic.Int64 // broadcasts: deliveries queued by the server / received by clients
	reqOK, reqFail         atomic.Int64
	rawOut, rawIn          atomic.Int64 // raw mode: bytes sent by clients / received by the server
	partialTimeouts, drops atomic.Int64 // server-side closes
}

// TestSoak runs mixed traffic (every codec on unix and tcp, emits,
// broadcasts and requests) through fault proxies that split, delay,
// stall, cut, reset and refuse at random, for -soak or $GOIPC_SOAK, and
// reports messages sent/received/lost and peak memory. Skipped by default.
func TestSoak(t *testing.T) {
	dur := soakDuration()
	if dur <= 0 {
		t.Skip("soak test: run with -soak=10m or GOIPC_SOAK=10m")
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("GOIPC_SOAK_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("soak for %v, seed %d (GOIPC_SOAK_SEED to replay the fault schedule)", dur, seed)
	base := memSnapshot()
	baseG := runtime.NumGoroutine()

	codecs := []struct {
		name  string
		codec goipc.Codec
	}{
		{"event", goipc.EventCodec().WithMaxFrame(1 << 20)},
		{"json", goipc.JSONCodec().WithMaxFrame(1 << 20)},
		{"length", goipc.LengthCodec(frame.LengthFieldConfig{Size: 4, MaxFrame: 1 << 20})},
		{"raw", goipc.RawCodec().WithMaxFrame(1 << 20)},
	}
	var lanes []*soakLane
	for _, network := range []string{"unix", "tcp"} {
		for _, c := range codecs {
			lanes = append(lanes, newSoakLane(t, network+"/"+c.name, network, c.codec))
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var wg sync.WaitGroup
	// Traffic.
	for _, l := range lanes {
		for cid, cl := range l.clients {
			wg.Add(1)
			go func() { defer wg.Done(); l.emitLoop(ctx, cid, cl) }()
			if l.codec.Mode() == goipc.ModeEvent || l.codec.Mode() == goipc.ModeJSON {
				wg.Add(1)
				go func() { defer wg.Done(); l.requestLoop(ctx, cl) }()
			}
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.broadcastLoop(ctx) }()
	}
	// Faults.
	var faults [9]atomic.Int64
	for i, l := range lanes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			soakFaults(ctx, l, rand.New(rand.NewPCG(seed, uint64(i))), &faults)
		}()
	}
	// Memory.
	var peakHeap, peakRSS uint64
	var peakG int
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		report := time.NewTicker(time.Minute)
		defer report.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-report.C:
				var sent, recv int64
				for _, l := range lanes {
					sent += l.sent.Load()
					recv += l.recv.Load()
				}
				t.Logf("soak: %d sent, %d received, peak heap in use %.1f MiB, RSS %.1f MiB, goroutines %d",
					sent, recv, mib(peakHeap), mib(peakRSS), peakG)
			case <-tk.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
				peakRSS = max(peakRSS, rss())
				peakG = max(peakG, runtime.NumGoroutine())
			}
		}
	}()
	wg.Wait()

	// Drain: no faults, let reconnects and queues settle.
	for _, l := range lanes {
		l.proxy.Clear()
	}
	for _, l := range lanes {
		waitUntil(t, 30*time.Second, l.name+" clients reconnected", func() bool {
			for _, cl := range l.clients {
				if !cl.Connected() {
					return false
				}
			}
			return true
		})
	}
	settle(func() int64 {
		var n int64
		for _, l := range lanes {
			n += l.recv.Load() + l.rawIn.Load() + l.ticksIn.Load()
		}
		return n
	})

	var tot struct{ sent, recv, refused, lost, dup, reorder, tout, tin, rok, rfail, rawOut, rawIn int64 }
	t.Logf("%-12s %9s %9s %7s %7s %4s %4s %9s %9s %7s %6s %5s %5s",
		"lane", "sent", "received", "lost", "refused", "dup", "late", "ticks out", "ticks in", "req ok", "fail", "ptmo", "drops")
	for _, l := range lanes {
		sent, recv := l.sent.Load(), l.recv.Load()
		if l.codec.Mode() == goipc.ModeRaw {
			t.Logf("%-12s %9s %9s (raw: %d bytes sent, %d received, %d lost) ticks %d/%d drops %d", l.name, "-", "-",
				l.rawOut.Load(), l.rawIn.Load(), l.rawOut.Load()-l.rawIn.Load(), l.ticksIn.Load(), l.ticksOut.Load(), l.drops.Load())
		} else {
			t.Logf("%-12s %9d %9d %7d %7d %4d %4d %9d %9d %7d %6d %5d %5d", l.name, sent, recv, sent-recv,
				l.refusedEmit.Load(), l.dup.Load(), l.reorder.Load(), l.ticksOut.Load(), l.ticksIn.Load(),
				l.reqOK.Load(), l.reqFail.Load(), l.partialTimeouts.Load(), l.drops.Load())
			tot.sent += sent
			tot.recv += recv
			tot.lost += sent - recv
		}
		tot.refused += l.refusedEmit.Load()
		tot.dup += l.dup.Load()
		tot.reorder += l.reorder.Load()
		tot.tout += l.ticksOut.Load()
		tot.tin += l.ticksIn.Load()
		tot.rok += l.reqOK.Load()
		tot.rfail += l.reqFail.Load()
		tot.rawOut += l.rawOut.Load()
		tot.rawIn += l.rawIn.Load()
		if l.dup.Load() != 0 {
			t.Errorf("%s: %d duplicated messages", l.name, l.dup.Load())
		}
		if l.reorder.Load() != 0 {
			t.Logf("NOTE %s: %d messages arrived after newer ones (old connection read after the new one)", l.name, l.reorder.Load())
		}
	}
	end := memSnapshot()
	t.Logf("TOTAL over %v: emits sent %d, received %d, lost %d (%.4f%%), refused at emit %d; duplicates %d, late (out of order) %d",
		dur, tot.sent, tot.recv, tot.lost, 100*float64(tot.lost)/float64(max(tot.sent, 1)), tot.refused, tot.dup, tot.reorder)
	t.Logf("broadcast deliveries queued %d, received %d (lost %d); requests ok %d, failed %d; raw bytes sent %d, received %d",
		tot.tout, tot.tin, tot.tout-tot.tin, tot.rok, tot.rfail, tot.rawOut, tot.rawIn)
	names := []string{"split", "delay", "short stall", "long stall", "cut", "cut after k", "reset after k", "refuse", "none"}
	var fs string
	for i, n := range names {
		fs += fmt.Sprintf("%s %d, ", n, faults[i].Load())
	}
	t.Logf("faults: %s", fs)
	t.Logf("memory: peak heap in use %.1f MiB, peak RSS %.1f MiB, peak goroutines %d; heap in use at start %.1f MiB, at end (after GC) %.1f MiB; goroutines %d → %d",
		mib(peakHeap), mib(peakRSS), peakG, mib(base.HeapInuse), mib(end.HeapInuse), baseG, runtime.NumGoroutine())
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// settle waits until count stops changing for a second (at most 30 s).
func settle(count func() int64) {
	last, stable := count(), time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		if n := count(); n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) > time.Second {
			return
		}
	}
}

func newSoakLane(t *testing.T, name, network string, codec goipc.Codec) *soakLane {
	l := &soakLane{name: name, codec: codec, lastSeq: make(map[int]int)}
	srv := newServer(t, listenAddr(t, network), goipc.WithCodec(codec),
		goipc.WithPartialTimeout(500*time.Millisecond), goipc.WithMaxPending(4<<20, goipc.Refuse, 0))
	switch codec.Mode() {
	case goipc.ModeEvent, goipc.ModeJSON:
		srv.Handle("up", func(c *goipc.Conn, m goipc.Message) { l.record(m.Data) })
		srv.Handle("req", func(c *goipc.Conn, m goipc.Message) { m.Reply(m.Data) })
	case goipc.ModeLength:
		srv.OnData(func(c *goipc.Conn, b []byte) { l.record(b) })
	case goipc.ModeRaw:
		srv.OnData(func(c *goipc.Conn, b []byte) { l.rawIn.Add(int64(len(b))) })
	}
	srv.OnDisconnect(func(c *goipc.Conn, err error) {
		if errors.Is(err, goipc.ErrPartialTimeout) {
			l.partialTimeouts.Add(1)
		}
		l.drops.Add(1)
	})
	start(t, srv)
	l.srv = srv
	var addr string
	l.proxy, addr = proxyFor(t, srv)
	for range 2 {
		cl := dialClient(t, addr, func(cl *goipc.Client) {
			switch codec.Mode() {
			case goipc.ModeEvent, goipc.ModeJSON:
				cl.Handle("tick", func(m goipc.Message) { l.ticksIn.Add(1) })
			case goipc.ModeLength:
				cl.OnData(func(b []byte) { l.ticksIn.Add(1) })
			case goipc.ModeRaw:
				cl.OnData(func(b []byte) { l.ticksIn.Add(int64(bytes.Count(b, []byte{'\n'}))) })
			}
		}, goipc.WithCodec(codec), goipc.WithRetry(20*time.Millisecond, goipc.Forever), goipc.WithOutbox(4096, 4<<20))
		l.clients = append(l.clients, cl)
	}
	return l
}

// record checks one "c<cid>-<seq>" message against its client's sequence.
func (l *soakLane) record(b []byte) {
	if len(b) > 0 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	i := bytes.IndexByte(b, '-')
	cid, _ := strconv.Atoi(string(b[1:i]))
	seq, _ := strconv.Atoi(string(b[i+1:]))
	l.mu.Lock()
	last, ok := l.lastSeq[cid]
	if !ok {
		last = -1
	}
	switch {
	case seq == last:
		l.dup.Add(1)
	case seq < last:
		// Late: it arrived after a newer one. This happens when an old
		// connection's bytes, already in the server's socket buffer, are
		// read after the reconnected connection's (different loops).
		l.reorder.Add(1)
		l.recv.Add(1)
	default:
		l.gaps.Add(int64(seq - last - 1))
		l.lastSeq[cid] = seq
		l.recv.Add(1)
	}
	l.mu.Unlock()
}

func (l *soakLane) emitLoop(ctx context.Context, cid int, cl *goipc.Client) {
	tk := time.NewTicker(time.Millisecond)
	defer tk.Stop()
	seq := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		for range 5 {
			var err error
			switch l.codec.Mode() {
			case goipc.ModeEvent:
				err = cl.Emit("up", fmt.Appendf(nil, "c%d-%d", cid, seq))
			case goipc.ModeJSON:
				err = cl.Emit("up", fmt.Appendf(nil, `"c%d-%d"`, cid, seq))
			case goipc.ModeLength:
				err = cl.Send(fmt.Appendf(nil, "c%d-%d", cid, seq))
			case goipc.ModeRaw:
				b := fmt.Appendf(nil, "c%d-%d\n", cid, seq)
				if err = cl.Send(b); err == nil {
					l.rawOut.Add(int64(len(b)))
				}
			}
			if err != nil {
				l.refusedEmit.Add(1)
				continue
			}
			l.sent.Add(1)
			seq++
		}
	}
}

func (l *soakLane) requestLoop(ctx context.Context, cl *goipc.Client) {
	tk := time.NewTicker(20 * time.Millisecond)
	defer tk.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		want := fmt.Appendf(nil, `"r%d"`, i)
		got, err := cl.Request(rctx, "req", want)
		cancel()
		if err == nil && bytes.Equal(got, want) {
			l.reqOK.Add(1)
		} else if ctx.Err() == nil {
			l.reqFail.Add(1)
		}
	}
}

func (l *soakLane) broadcastLoop(ctx context.Context) {
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		var n int
		switch l.codec.Mode() {
		case goipc.ModeEvent, goipc.ModeJSON:
			n, _ = l.srv.Broadcast("tick", fmt.Appendf(nil, "%d", i))
		case goipc.ModeLength:
			n, _ = l.srv.BroadcastBytes(fmt.Appendf(nil, "%d", i))
		case goipc.ModeRaw:
			n, _ = l.srv.BroadcastBytes(fmt.Appendf(nil, "%d\n", i))
		}
		l.ticksOut.Add(int64(n))
	}
}

// soakFaults applies a random fault to the lane's proxy every 0.3–1.5 s.
func soakFaults(ctx context.Context, l *soakLane, rng *rand.Rand, count *[9]atomic.Int64) {
	p := l.proxy
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	dirs := []faultproxy.Direction{faultproxy.Up, faultproxy.Down}
	for {
		if !wait(time.Duration(300+rng.IntN(1200)) * time.Millisecond) {
			return
		}
		p.Clear()
		f := rng.IntN(9)
		count[f].Add(1)
		d := dirs[rng.IntN(2)]
		switch f {
		case 0:
			p.SplitRandom(faultproxy.Up, 1+rng.IntN(64), rng.Uint64())
			p.SplitRandom(faultproxy.Down, 1+rng.IntN(64), rng.Uint64())
		case 1:
			p.Split(d, 256)
			p.Delay(d, time.Duration(50+rng.IntN(500))*time.Microsecond)
		case 2:
			p.Stall(d)
			wait(time.Duration(50+rng.IntN(250)) * time.Millisecond)
			p.Resume(d)
		case 3:
			p.Stall(faultproxy.Up)
			wait(800 * time.Millisecond) // beyond the 500 ms partial-frame timeout
			p.Resume(faultproxy.Up)
		case 4:
			p.Cut()
		case 5:
			p.CutAfter(d, int64(1+rng.IntN(500)))
		case 6:
			p.ResetAfter(d, int64(1+rng.IntN(500)))
		case 7:
			p.Refuse(true)
			p.Cut()
			wait(200 * time.Millisecond)
			p.Refuse(false)
		}
	}
}
