//go:build linux

package reliability

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/poller"
)

// 1,000 clients connected at once to one server, on unix and on tcp, each
// complete a request/reply round trip.
func TestThousandClients(t *testing.T) {
	forNetworks(t, func(t *testing.T, network string) {
		n := 1000
		if raceEnabled {
			// Each goipc client runs 3–4 goroutines; the race detector
			// caps live goroutines at 8128 and runs them ~10× slower.
			n = 250
			t.Logf("race detector: %d clients instead of 1000", n)
		}
		t.Logf("RLIMIT_NOFILE %d (hard %d)", nofile.Cur, nofile.Max)
		srv := newServer(t, listenAddr(t, network))
		srv.Handle("echo", func(c *goipc.Conn, m goipc.Message) { m.Reply(m.Data) })
		start(t, srv)

		clients := make([]*goipc.Client, n)
		var wg sync.WaitGroup
		var failed atomic.Int64
		var firstErr atomic.Value
		t0 := time.Now()
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cl, err := goipc.Dial(ctx, srv.Addr(), goipc.WithRetry(20*time.Millisecond, 50))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					return
				}
				clients[i] = cl
			}()
		}
		wg.Wait()
		defer func() {
			for _, cl := range clients {
				if cl != nil {
					cl.Close()
				}
			}
		}()
		if failed.Load() > 0 {
			t.Fatalf("%d of %d clients failed to connect: %v", failed.Load(), n, firstErr.Load())
		}
		waitUntil(t, 30*time.Second, "server to hold every client", func() bool { return len(srv.Conns()) == n })
		connected := time.Since(t0)
		g := runtime.NumGoroutine()

		t1 := time.Now()
		var ok atomic.Int64
		for i, cl := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				want := []byte(fmt.Sprintf("client %d", i))
				got, err := cl.Request(ctx, "echo", want)
				if err != nil || !bytes.Equal(got, want) {
					firstErr.CompareAndSwap(nil, fmt.Errorf("client %d: %q, %v", i, got, err))
					return
				}
				ok.Add(1)
			}()
		}
		wg.Wait()
		if ok.Load() != int64(n) {
			t.Fatalf("%d of %d round trips completed: %v", ok.Load(), n, firstErr.Load())
		}
		t.Logf("%d clients connected in %v (%d goroutines in the process, clients included); %d concurrent round trips in %v",
			n, connected.Round(time.Millisecond), g, n, time.Since(t1).Round(time.Millisecond))
	})
}

// One server holds 10,000 idle connections. The clients live in a helper
// process (RLIMIT_NOFILE is 20000 here and per process), so the memory
// measured is the server's alone. The event loops must not spend a
// goroutine per connection.
//
// It also runs under -race: the server side has no goroutine per
// connection and the clients are in another process, so the race
// detector's goroutine limit does not apply and its memory overhead is
// small at this count.
func TestTenThousandIdleConns(t *testing.T) {
	forNetworks(t, func(t *testing.T, network string) {
		const n = 10000
		if nofile.Cur < n+1000 {
			t.Fatalf("RLIMIT_NOFILE is %d: 10,000 connections need more", nofile.Cur)
		}
		srv := newServer(t, listenAddr(t, network))
		start(t, srv)
		nw, a := splitAddr(srv.Addr())
		base := memSnapshot()
		baseG := runtime.NumGoroutine()
		baseRSS := rss()

		t0 := time.Now()
		holder := startChild(t, "hold", nw, a, fmt.Sprint(n))
		if l := holder.line(t, 60*time.Second, "held "); l != fmt.Sprintf("held %d", n) {
			t.Fatalf("helper: %q", l)
		}
		waitUntil(t, 60*time.Second, "server to hold 10,000 connections", func() bool { return len(srv.Conns()) == n })
		took := time.Since(t0)
		held := memSnapshot()
		heldG := runtime.NumGoroutine()
		heldRSS := rss()
		if got := len(srv.Conns()); got != n {
			t.Fatalf("server reports %d connections, want %d", got, n)
		}
		perInuse := float64(held.HeapInuse-base.HeapInuse) / n
		perSys := float64(held.Sys-base.Sys) / n
		t.Logf("%s: %d idle connections held (accepted in %v); heap in use +%.1f MiB = %.0f B/conn; Sys +%.1f MiB = %.0f B/conn; RSS +%.1f MiB = %.0f B/conn; goroutines %d → %d",
			network, n, took.Round(time.Millisecond), mib(held.HeapInuse-base.HeapInuse), perInuse,
			mib(held.Sys-base.Sys), perSys, mib(heldRSS-min(heldRSS, baseRSS)), float64(heldRSS-min(heldRSS, baseRSS))/n, baseG, heldG)
		// At GOMAXPROCS 1, EngineAuto serves the first
		// AutoGoroutineConns connections with goroutines (a reader each
		// while idle: no writer), and the rest on a loop.
		limit := 100
		if runtime.GOMAXPROCS(0) == 1 {
			limit += poller.AutoGoroutineConns
		}
		if grew := heldG - baseG; grew > limit {
			t.Errorf("goroutines grew by %d for %d connections: a goroutine per connection?", grew, n)
		}
		// The outbound ring is allocated on first write; an idle
		// connection must stay well under it (64 KiB).
		if perInuse > 16<<10 {
			t.Errorf("%.0f bytes of heap per idle connection", perInuse)
		}

		holder.stdin.Close()
		waitUntil(t, 60*time.Second, "server to see every connection close", func() bool { return len(srv.Conns()) == 0 })
	})
}
