//go:build linux

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every workload on every implementation for about 100 ms on
// the cheapest settings (unpinned, stream sizes 16 B and 64 KiB, 1 000 idle
// connections) and checks that the run completes with a row per
// implementation × workload. Numbers are not asserted. Under CI=true the C
// and node-ipc lanes must run (gcc and node-ipc 14 are installed there);
// the goipc/procs lane must run everywhere (it needs only the go command
// that runs the test, to build cmd/goipc).
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	d := 100 * time.Millisecond
	wls := Workloads(nil, []string{"unix", "tcp"}, []int{16, 64 << 10}, 1000)
	impls := AllImpls()
	var progress bytes.Buffer
	start := time.Now()
	rep, err := Run(context.Background(), Config{
		Workloads: wls, Impls: impls, Duration: d, Warmup: 20 * time.Millisecond,
		CacheDir: t.TempDir(), Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("smoke run took %v", time.Since(start).Round(time.Millisecond))
	var table bytes.Buffer
	WriteTable(&table, rep, false)
	t.Log("\n" + table.String())

	ci := os.Getenv("CI") == "true"
	rows := map[string]Result{}
	for _, r := range rep.Results {
		rows[r.Workload+"|"+r.Impl] = r
		if r.Error != "" {
			t.Errorf("%s %s %s: %s", r.Workload, r.Placement, r.Impl, r.Error)
		}
		if ci && (r.Impl == ImplC || r.Impl == ImplNode) && strings.HasPrefix(r.Skipped, "not ") && !strings.HasPrefix(r.Skipped, "not implemented") {
			t.Errorf("CI=true but the %s lane did not run: %s", r.Impl, r.Skipped)
		}
		checkProcsRow(t, r)
	}
	for _, w := range wls {
		for _, im := range impls {
			if _, ok := rows[w.Name()+"|"+im.Name()]; !ok {
				t.Errorf("no row for %s × %s", w.Name(), im.Name())
			}
		}
	}
	if len(rep.Results) != len(wls)*len(impls) {
		t.Errorf("%d rows, want %d", len(rep.Results), len(wls)*len(impls))
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(rep.Results) {
		t.Fatalf("JSON round trip: %v (%d rows)", err, len(back.Results))
	}
}

func TestWorkloadNames(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range Workloads(nil, nil, nil, 0) {
		if seen[w.Name()] {
			t.Errorf("duplicate workload %s", w.Name())
		}
		seen[w.Name()] = true
	}
	for _, want := range []string{"stream/unix/64B", "stream/tcp/64KiB", "inflight64/unix/64B", "latency/tcp/64B", "udp/64B", "broadcast100/unix/64B", "idle10000/unix"} {
		if !seen[want] {
			t.Errorf("missing workload %s", want)
		}
	}
}

// checkProcsRow fails the test when a goipc/procs or goipc/procs-busy
// round-trip row did not run: the lanes need only the go command (to build
// cmd/goipc), which the test has.
func checkProcsRow(t *testing.T, r Result) {
	t.Helper()
	if r.Impl != ImplGoipcProcs && r.Impl != ImplGoipcProcsBusy {
		return
	}
	if busy := strings.Contains(r.Note, "busy-poll"); busy != (r.Impl == ImplGoipcProcsBusy) && r.Skipped == "" && r.Error == "" {
		t.Errorf("%s %s %s: note %q", r.Workload, r.Placement, r.Impl, r.Note)
	}
	rt := r.Kind == InFlight || r.Kind == Latency
	switch {
	case rt && r.Skipped != "":
		t.Errorf("%s %s %s did not run: %s", r.Workload, r.Placement, r.Impl, r.Skipped)
	case rt && r.Error == "" && (r.Msgs == 0 || r.AllocsPerMsg == nil || !strings.Contains(r.Note, "child process")):
		t.Errorf("%s %s %s: msgs %d, allocs/msg %v, note %q", r.Workload, r.Placement, r.Impl, r.Msgs, r.AllocsPerMsg, r.Note)
	case !rt && r.Skipped != "not implemented for this lane":
		t.Errorf("%s %s %s: skipped %q, error %q, want not implemented", r.Workload, r.Placement, r.Impl, r.Skipped, r.Error)
	}
}

// TestProcsPlacements runs the goipc/procs and goipc/procs-busy lanes
// (server in a `goipc serve` child process, client here) on both
// round-trip workloads in every placement, so that the taskset and pinning
// paths and the child's --busy-poll run too. It fails, not skips, when
// cmd/goipc cannot be built.
func TestProcsPlacements(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	places := []Placement{Unpinned, SameCore, CrossCore}
	if _, err := exec.LookPath("taskset"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but taskset is not installed")
		}
		t.Logf("taskset not found: unpinned only")
		places = places[:1]
	}
	wls := Workloads([]Kind{InFlight, Latency}, []string{"unix", "tcp"}, nil, 0)
	impls := []Impl{newProcsImpl(), newProcsBusyImpl()}
	procs := runtime.GOMAXPROCS(0)
	rep, err := Run(context.Background(), Config{
		Workloads: wls, Impls: impls, Placements: places,
		Duration: 100 * time.Millisecond, Warmup: 20 * time.Millisecond, CacheDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	WriteTable(&table, rep, false)
	t.Log("\n" + table.String())
	if want := len(wls) * len(places) * len(impls); len(rep.Results) != want {
		t.Errorf("%d rows, want %d", len(rep.Results), want)
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Errorf("%s %s %s: %s", r.Workload, r.Placement, r.Impl, r.Error)
		}
		checkProcsRow(t, r)
	}
	if n := runtime.GOMAXPROCS(0); n != procs {
		t.Errorf("GOMAXPROCS %d after the run, want %d (pinning not undone)", n, procs)
	}
	for _, tg := range rep.Targets {
		if tg.Impl != "" && tg.Impl != ImplGoipcProcs && tg.Impl != ImplGoipcProcsBusy {
			t.Errorf("target %q picked %s", tg.What, tg.Impl)
		}
	}
}
