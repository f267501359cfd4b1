// Package bench is goipc's side-by-side benchmark harness, behind
// `goipc bench --compare`: the same workloads, in one run on one machine,
// through goipc (each codec, both ends in this process; goipc/procs, the
// server a `goipc serve` child process; and goipc/busy and
// goipc/procs-busy, the same two with busy polling), a plain Go net + bufio
// implementation, a C reference (c/bench/bench.c, compiled with gcc at run
// time) and node-ipc 14 (interop/node/bench-node.mjs, when .cache/interop
// holds it).
//
// Every implementation sits behind Impl. Run measures each workload ×
// placement × implementation, then fills in ratios to the C reference and
// to std net in the same placement, and checks the targets of issue 8.
//
// The harness measures Linux only (placement, RLIMIT_NOFILE, VmRSS); on
// other systems Run returns ErrUnsupported. Results are never asserted.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Errors.
var (
	// ErrNotApplicable is returned by an Impl for a workload it does not
	// implement (node-ipc has no UDP batch API, raw mode has no echo
	// framing, ...). The row is reported as "n/a".
	ErrNotApplicable = errors.New("bench: not applicable")
	// ErrUnsupported is returned by Run where the harness does not run.
	ErrUnsupported = errors.New("bench: the comparison harness runs on Linux only")
)

// Kind names a workload family.
type Kind string

// The workloads of issue 8.
const (
	Stream    Kind = "stream"    // one-way stream of Size-byte frames
	InFlight  Kind = "inflight"  // Window round trips in flight
	Latency   Kind = "latency"   // one round trip in flight: p50/p99/p999
	UDP       Kind = "udp"       // Size-byte datagrams, one way
	Broadcast Kind = "broadcast" // Size bytes to Clients clients
	Idle      Kind = "idle"      // Conns mostly idle connections, 1% active
)

// Kinds lists every kind in run order.
var Kinds = []Kind{Stream, InFlight, Latency, UDP, Broadcast, Idle}

// Workload is one measured configuration.
type Workload struct {
	Kind      Kind
	Transport string // unix, tcp or udp
	Size      int    // payload bytes
	Window    int    // InFlight/Latency: round trips in flight
	Clients   int    // Broadcast: receivers
	Conns     int    // Idle: connections
}

// Name is the workload's row label, e.g. "stream/unix/64B".
func (w Workload) Name() string {
	switch w.Kind {
	case Stream:
		return fmt.Sprintf("stream/%s/%s", w.Transport, sizeName(w.Size))
	case InFlight:
		return fmt.Sprintf("inflight%d/%s/%s", w.Window, w.Transport, sizeName(w.Size))
	case Latency:
		return fmt.Sprintf("latency/%s/%s", w.Transport, sizeName(w.Size))
	case UDP:
		return fmt.Sprintf("udp/%s", sizeName(w.Size))
	case Broadcast:
		return fmt.Sprintf("broadcast%d/%s/%s", w.Clients, w.Transport, sizeName(w.Size))
	case Idle:
		return fmt.Sprintf("idle%d/%s", w.Conns, w.Transport)
	}
	return string(w.Kind)
}

func sizeName(n int) string {
	if n >= 1024 && n%1024 == 0 {
		return strconv.Itoa(n/1024) + "KiB"
	}
	return strconv.Itoa(n) + "B"
}

// Workloads returns the workloads of issue 8 for the given kinds (all when
// empty) and stream transports (unix, tcp when empty). idleConns is the
// connection count of the idle workload (10000 when 0).
func Workloads(kinds []Kind, transports []string, streamSizes []int, idleConns int) []Workload {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	if len(transports) == 0 {
		transports = []string{"unix", "tcp"}
	}
	if len(streamSizes) == 0 {
		streamSizes = []int{16, 64, 1024, 64 << 10}
	}
	if idleConns <= 0 {
		idleConns = 10000
	}
	var out []Workload
	for _, k := range kinds {
		switch k {
		case Stream:
			for _, tr := range transports {
				for _, s := range streamSizes {
					out = append(out, Workload{Kind: Stream, Transport: tr, Size: s})
				}
			}
		case InFlight:
			for _, tr := range transports {
				out = append(out, Workload{Kind: InFlight, Transport: tr, Size: 64, Window: 64})
			}
		case Latency:
			for _, tr := range transports {
				out = append(out, Workload{Kind: Latency, Transport: tr, Size: 64, Window: 1})
			}
		case UDP:
			out = append(out, Workload{Kind: UDP, Transport: "udp", Size: 64})
		case Broadcast:
			for _, n := range []int{1, 10, 100} {
				out = append(out, Workload{Kind: Broadcast, Transport: "unix", Size: 64, Clients: n})
			}
		case Idle:
			out = append(out, Workload{Kind: Idle, Transport: "unix", Size: 64, Conns: idleConns})
		}
	}
	return out
}

// ParseKind parses a workload kind (also accepting "inflight64").
func ParseKind(s string) (Kind, error) {
	switch s {
	case "inflight64", "rtt":
		return InFlight, nil
	case "idle10k":
		return Idle, nil
	}
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("bench: unknown workload %q (want %s)", s, kindList())
}

func kindList() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Placement says where the two ends of a workload run.
type Placement string

// Placements. For in-process implementations (goipc, std) SameCore pins
// the whole process to CPU 0 with GOMAXPROCS 1; CrossCore applies only
// where the peer is a separate process (C, node, goipc/procs and
// goipc/procs-busy): server on
// CPU 0, client on CPU 1, via taskset (goipc/procs: the server child under
// taskset, the harness process, its client, pinned with GOMAXPROCS 1).
const (
	Unpinned  Placement = "unpinned"
	SameCore  Placement = "same-core"
	CrossCore Placement = "cross-core"
)

// ParsePlacement parses a placement name.
func ParsePlacement(s string) (Placement, error) {
	switch Placement(s) {
	case Unpinned, SameCore, CrossCore:
		return Placement(s), nil
	}
	return "", fmt.Errorf("bench: unknown placement %q (want unpinned, same-core, cross-core)", s)
}

// Measure is what an Impl returns for one workload.
type Measure struct {
	Msgs    int64         // messages counted in the window (round trips, deliveries, datagrams)
	Elapsed time.Duration // the measuring window
	// Latency quantiles in microseconds (round-trip workloads).
	P50, P99, P999 float64
	// Allocs is the process's heap allocations during the window (in-process
	// implementations, and the client of goipc/procs); -1 when unknown.
	Allocs int64
	// Idle workload: bytes per connection.
	HeapPerConn, RSSPerConn float64
	// GoroutinesPerConn is the goroutine growth per connection (idle).
	GoroutinesPerConn float64
	Note              string
}

// Env is what a run of one workload gets.
type Env struct {
	Duration time.Duration // measuring window
	Warmup   time.Duration
	Dir      string    // scratch directory for sockets
	Place    Placement // where the ends run
	// ServerCPU, ClientCPU: CPUs for child processes (-1: unpinned).
	ServerCPU, ClientCPU int
	Repo                 string // repository root (for c/ and interop/)
	CacheDir             string
}

// Impl is one implementation of the workloads. A method returns
// ErrNotApplicable for what it does not implement.
type Impl interface {
	// Name is the row label, e.g. "goipc/event", "std", "c", "node-ipc14".
	Name() string
	// InProcess reports whether both ends run in this process (goipc, std)
	// rather than as child processes (c, node) or, for goipc/procs, the
	// server as a child process.
	InProcess() bool
	// Available returns nil, or why the lane cannot run here ("not
	// installed", "gcc not found").
	Available(ctx context.Context, env *Env) error
	Stream(ctx context.Context, env *Env, w Workload) (Measure, error)
	RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error)
	UDP(ctx context.Context, env *Env, w Workload) (Measure, error)
	Broadcast(ctx context.Context, env *Env, w Workload) (Measure, error)
	Idle(ctx context.Context, env *Env, w Workload) (Measure, error)
}

// noWorkloads answers ErrNotApplicable for every workload. An Impl embeds
// it and defines only the workloads it has.
type noWorkloads struct{}

func (noWorkloads) Stream(context.Context, *Env, Workload) (Measure, error) {
	return Measure{}, ErrNotApplicable
}
func (noWorkloads) RoundTrips(context.Context, *Env, Workload) (Measure, error) {
	return Measure{}, ErrNotApplicable
}
func (noWorkloads) UDP(context.Context, *Env, Workload) (Measure, error) {
	return Measure{}, ErrNotApplicable
}
func (noWorkloads) Broadcast(context.Context, *Env, Workload) (Measure, error) {
	return Measure{}, ErrNotApplicable
}
func (noWorkloads) Idle(context.Context, *Env, Workload) (Measure, error) {
	return Measure{}, ErrNotApplicable
}

// harnessClient is implemented by an Impl that is not InProcess but runs
// its client end in the harness process (goipc/procs): run pins the
// process to env.ClientCPU for the row and reports its allocations.
type harnessClient interface {
	Impl
	harnessClient() bool
}

func isHarnessClient(im Impl) bool {
	h, ok := im.(harnessClient)
	return ok && h.harnessClient()
}

// Result is one row.
type Result struct {
	Workload  string    `json:"workload"`
	Kind      Kind      `json:"kind"`
	Transport string    `json:"transport"`
	Size      int       `json:"size"`
	Impl      string    `json:"impl"`
	Placement Placement `json:"placement"`

	Msgs       int64   `json:"msgs,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	MsgsPerSec float64 `json:"msgs_per_sec,omitempty"`
	MBPerSec   float64 `json:"mb_per_sec,omitempty"`
	P50us      float64 `json:"p50_us,omitempty"`
	P99us      float64 `json:"p99_us,omitempty"`
	P999us     float64 `json:"p999_us,omitempty"`
	// AllocsPerMsg: heap allocations of the whole process per message (Go
	// implementations; for goipc/procs the client's, the harness process;
	// null for child processes).
	AllocsPerMsg      *float64 `json:"allocs_per_msg"`
	HeapPerConn       float64  `json:"heap_bytes_per_conn,omitempty"`
	RSSPerConn        float64  `json:"rss_bytes_per_conn,omitempty"`
	GoroutinesPerConn *float64 `json:"goroutines_per_conn,omitempty"`

	// VsC and VsStd: this row against the C reference and std net in the
	// same workload and placement: throughput ratio (higher is better), or
	// for latency rows the p50 ratio (lower is better).
	VsC   *float64 `json:"vs_c,omitempty"`
	VsStd *float64 `json:"vs_std,omitempty"`

	Note    string `json:"note,omitempty"`
	Skipped string `json:"skipped,omitempty"` // not applicable / not installed
	Error   string `json:"error,omitempty"`
}

// Config configures Run.
type Config struct {
	Workloads  []Workload
	Impls      []Impl
	Placements []Placement // default: unpinned only
	Duration   time.Duration
	Warmup     time.Duration // default: Duration/5, at most 200ms
	Repo       string        // repository root; found from the working directory when empty
	CacheDir   string        // where the C reference is built; user cache dir when empty
	Progress   io.Writer     // one line per row; nil for none
}

// Report is the JSON output of `goipc bench --compare --json`.
type Report struct {
	GoVersion  string    `json:"go"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	CPUs       int       `json:"cpus"`
	CPUModel   string    `json:"cpu_model,omitempty"`
	Kernel     string    `json:"kernel,omitempty"`
	Duration   string    `json:"duration"`
	Placements []string  `json:"placements"`
	Notes      []string  `json:"notes,omitempty"`
	Results    []Result  `json:"results"`
	Targets    []Target  `json:"targets"`
	Started    time.Time `json:"started"`
	Took       string    `json:"took"`
}

// measure runs one workload on one impl.
func measure(ctx context.Context, im Impl, env *Env, w Workload) (Measure, error) {
	switch w.Kind {
	case Stream:
		return im.Stream(ctx, env, w)
	case InFlight, Latency:
		return im.RoundTrips(ctx, env, w)
	case UDP:
		return im.UDP(ctx, env, w)
	case Broadcast:
		return im.Broadcast(ctx, env, w)
	case Idle:
		return im.Idle(ctx, env, w)
	}
	return Measure{}, ErrNotApplicable
}

// toResult fills a row from a measure; allocs says whether m.Allocs counts
// this process's allocations for the row.
func toResult(r *Result, m Measure, allocs bool) {
	r.Msgs = m.Msgs
	r.Seconds = m.Elapsed.Seconds()
	if r.Seconds > 0 {
		r.MsgsPerSec = float64(m.Msgs) / r.Seconds
		r.MBPerSec = r.MsgsPerSec * float64(r.Size) / 1e6
	}
	r.P50us, r.P99us, r.P999us = m.P50, m.P99, m.P999
	if allocs && m.Allocs >= 0 && m.Msgs > 0 {
		a := float64(m.Allocs) / float64(m.Msgs)
		r.AllocsPerMsg = &a
	}
	r.HeapPerConn, r.RSSPerConn = m.HeapPerConn, m.RSSPerConn
	if r.Kind == Idle {
		g := m.GoroutinesPerConn
		r.GoroutinesPerConn = &g
	}
	r.Note = m.Note
}

// addRatios sets VsC and VsStd on every measured row.
func addRatios(rs []Result) {
	type key struct {
		w string
		p Placement
	}
	ref := func(impl string) map[key]*Result {
		m := map[key]*Result{}
		for i := range rs {
			if rs[i].Impl == impl && rs[i].Error == "" && rs[i].Skipped == "" && rs[i].MsgsPerSec > 0 {
				m[key{rs[i].Workload, rs[i].Placement}] = &rs[i]
			}
		}
		return m
	}
	cs, std := ref(ImplC), ref(ImplStd)
	ratio := func(r, base *Result) *float64 {
		if base == nil || r.MsgsPerSec <= 0 {
			return nil
		}
		var v float64
		if r.Kind == Latency {
			if base.P50us <= 0 || r.P50us <= 0 {
				return nil
			}
			v = r.P50us / base.P50us
		} else {
			v = r.MsgsPerSec / base.MsgsPerSec
		}
		return &v
	}
	for i := range rs {
		r := &rs[i]
		if r.Error != "" || r.Skipped != "" {
			continue
		}
		k := key{r.Workload, r.Placement}
		r.VsC = ratio(r, cs[k])
		r.VsStd = ratio(r, std[k])
	}
}

// Target is one of issue 8's targets, checked against a run.
type Target struct {
	What      string    `json:"what"`
	Placement Placement `json:"placement"`
	Impl      string    `json:"impl,omitempty"` // the goipc row compared
	Ratio     *float64  `json:"ratio"`          // measured, nil when a side is missing
	Want      string    `json:"want"`
	Met       *bool     `json:"met"`
}

// Targets checks the targets in rs (after addRatios): for each
// placement, the best goipc binary codec row (goipc/event, goipc/length or
// goipc/procs, the length codec with the server in a child process, the
// only goipc row in the cross-core placement; for streams and UDP also
// goipc/batch, and for UDP goipc/udp-batch).
func Targets(rs []Result) []Target {
	find := func(impl, wl string, p Placement) *Result {
		for i := range rs {
			r := &rs[i]
			if r.Impl == impl && r.Workload == wl && r.Placement == p && r.Error == "" && r.Skipped == "" && r.Msgs > 0 {
				return r
			}
		}
		return nil
	}
	best := func(wl string, p Placement, lowerBetter bool, impls ...string) *Result {
		var b *Result
		for _, im := range impls {
			r := find(im, wl, p)
			if r == nil {
				continue
			}
			if b == nil || (!lowerBetter && r.MsgsPerSec > b.MsgsPerSec) || (lowerBetter && r.P50us < b.P50us) {
				b = r
			}
		}
		return b
	}
	var places []Placement
	seen := map[Placement]bool{}
	for _, r := range rs {
		if !seen[r.Placement] {
			seen[r.Placement] = true
			places = append(places, r.Placement)
		}
	}
	var out []Target
	add := func(what string, p Placement, g *Result, base *Result, want float64, lowerBetter bool) {
		if g == nil {
			return // no goipc row here
		}
		t := Target{What: what, Placement: p}
		if lowerBetter {
			t.Want = "≤ " + strconv.FormatFloat(want, 'f', -1, 64) + "×"
		} else {
			t.Want = "≥ " + strconv.FormatFloat(want, 'f', -1, 64) + "×"
		}
		if g != nil {
			t.Impl = g.Impl
		}
		if g != nil && base != nil {
			var v float64
			if lowerBetter {
				v = g.P50us / base.P50us
			} else {
				v = g.MsgsPerSec / base.MsgsPerSec
			}
			met := (lowerBetter && v <= want) || (!lowerBetter && v >= want)
			t.Ratio, t.Met = &v, &met
		}
		out = append(out, t)
	}
	bin := []string{"goipc/event", "goipc/length", ImplGoipcProcs}
	// The busy-polling lanes trade CPU for wake-ups (goipc.WithBusyPoll):
	// their targets are reported apart from the default lanes'.
	busy := []string{ImplGoipcBusy, ImplGoipcProcsBusy}
	// Streams may also be sent through a Batch, as std's lane sends
	// through a bufio.Writer.
	streams := append(bin, "goipc/batch")
	for _, p := range places {
		add("stream/unix/64B vs C", p, best("stream/unix/64B", p, false, streams...), find(ImplC, "stream/unix/64B", p), 0.6, false)
		add("stream/unix/64B vs std", p, best("stream/unix/64B", p, false, streams...), find(ImplStd, "stream/unix/64B", p), 1.5, false)
		add("stream/tcp/64B vs C", p, best("stream/tcp/64B", p, false, streams...), find(ImplC, "stream/tcp/64B", p), 0.8, false)
		for _, tr := range []string{"unix", "tcp"} {
			wl := "inflight64/" + tr + "/64B"
			add(wl+" vs C", p, best(wl, p, false, bin...), find(ImplC, wl, p), 0.6, false)
			add(wl+" vs node-ipc 14 (goipc/json)", p, find("goipc/json", wl, p), find(ImplNode, wl, p), 10, false)
			add(wl+" vs node-ipc 14 (best goipc)", p, best(wl, p, false, bin...), find(ImplNode, wl, p), 10, false)
			add(wl+" vs node-ipc 14 (busy polling)", p, best(wl, p, false, busy...), find(ImplNode, wl, p), 10, false)
			lw := "latency/" + tr + "/64B"
			add(lw+" p50 vs C", p, best(lw, p, true, bin...), find(ImplC, lw, p), 1.3, true)
			add(lw+" p50 vs C (busy polling)", p, best(lw, p, true, busy...), find(ImplC, lw, p), 1.3, true)
		}
		add("udp/64B vs C sendmmsg", p, best("udp/64B", p, false, "goipc/event", "goipc/length", "goipc/batch", "goipc/udp-batch"), find(ImplC, "udp/64B", p), 0.8, false)
		for i := range rs {
			r := &rs[i]
			if r.Kind == Idle && r.Placement == p && strings.HasPrefix(r.Impl, "goipc/") && r.Msgs > 0 {
				v := r.HeapPerConn / 1024
				if r.RSSPerConn > r.HeapPerConn {
					v = r.RSSPerConn / 1024
				}
				met := v <= 4
				out = append(out, Target{What: r.Workload + " KiB/conn (max of heap, RSS)", Placement: p, Impl: r.Impl, Ratio: &v, Want: "≤ 4 KiB", Met: &met})
				if r.GoroutinesPerConn != nil {
					g := *r.GoroutinesPerConn
					met := g < 0.01
					out = append(out, Target{What: r.Workload + " goroutines/conn", Placement: p, Impl: r.Impl, Ratio: &g, Want: "0", Met: &met})
				}
			}
		}
	}
	return out
}

// WriteJSON writes rep as indented JSON.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes rep as a text table (Markdown when md is set).
func WriteTable(w io.Writer, rep *Report, md bool) {
	if !md {
		fmt.Fprintf(w, "goipc bench --compare: %s/%s, %d CPUs (%s), %s, %s per row, placements %s\n\n",
			rep.GOOS, rep.GOARCH, rep.CPUs, rep.CPUModel, rep.GoVersion, rep.Duration, strings.Join(rep.Placements, ","))
	}
	head := []string{"workload", "placement", "impl", "msgs/s", "MB/s", "p50", "p99", "p999", "allocs/msg", "×C", "×std", "note"}
	var rows [][]string
	for _, r := range rep.Results {
		row := []string{r.Workload, string(r.Placement), r.Impl}
		switch {
		case r.Skipped != "":
			row = append(row, "n/a", "", "", "", "", "", "", "", r.Skipped)
		case r.Error != "":
			row = append(row, "error", "", "", "", "", "", "", "", r.Error)
		default:
			row = append(row, fmtRate(r.MsgsPerSec), fmtMB(r.MBPerSec), fmtUs(r.P50us), fmtUs(r.P99us), fmtUs(r.P999us),
				fmtPtr(r.AllocsPerMsg, 3), fmtPtr(r.VsC, 2), fmtPtr(r.VsStd, 2), rowNote(r))
		}
		rows = append(rows, row)
	}
	if md {
		fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
		fmt.Fprintln(w, "|"+strings.Repeat("---|", len(head)))
		for _, row := range rows {
			fmt.Fprintln(w, "| "+strings.Join(row, " | ")+" |")
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, strings.Join(head, "\t"))
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		tw.Flush()
	}
	if len(rep.Targets) > 0 {
		fmt.Fprintln(w)
		if md {
			fmt.Fprintln(w, "| target | placement | goipc row | measured | want | met |")
			fmt.Fprintln(w, "|---|---|---|---|---|---|")
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		if !md {
			fmt.Fprintln(tw, "target\tplacement\tgoipc row\tmeasured\twant\tmet")
		}
		for _, t := range rep.Targets {
			meas, met := "—", "no data"
			if t.Ratio != nil {
				meas = strconv.FormatFloat(*t.Ratio, 'f', 2, 64)
				if !strings.HasPrefix(t.Want, "≤ 4") && t.Want != "0" {
					meas += "×"
				}
			}
			if t.Met != nil {
				met = map[bool]string{true: "yes", false: "**no**"}[*t.Met]
				if !md {
					met = strings.Trim(met, "*")
				}
			}
			if md {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", t.What, t.Placement, t.Impl, meas, t.Want, met)
			} else {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.What, t.Placement, t.Impl, meas, t.Want, met)
			}
		}
		tw.Flush()
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note: "+n)
	}
}

func rowNote(r Result) string {
	var parts []string
	if r.Kind == Idle {
		if r.HeapPerConn > 0 || r.RSSPerConn > 0 {
			parts = append(parts, fmt.Sprintf("heap %.2f KiB/conn, RSS %.2f KiB/conn", r.HeapPerConn/1024, r.RSSPerConn/1024))
		}
		if r.GoroutinesPerConn != nil {
			parts = append(parts, fmt.Sprintf("%.2f goroutines/conn", *r.GoroutinesPerConn))
		}
	}
	if r.Note != "" {
		parts = append(parts, r.Note)
	}
	return strings.Join(parts, "; ")
}

func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 1, 64) + " k"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func fmtMB(v float64) string {
	if v == 0 {
		return ""
	}
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func fmtUs(v float64) string {
	if v <= 0 {
		return ""
	}
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "µs"
}

func fmtPtr(p *float64, prec int) string {
	if p == nil || math.IsNaN(*p) {
		return ""
	}
	return strconv.FormatFloat(*p, 'f', prec, 64)
}

// sortResults orders rows by workload (in the order given), placement and
// then implementation order.
func sortResults(rs []Result, wls []Workload, impls []Impl) {
	wi := map[string]int{}
	for i, w := range wls {
		wi[w.Name()] = i
	}
	ii := map[string]int{}
	for i, im := range impls {
		ii[im.Name()] = i
	}
	pi := map[Placement]int{Unpinned: 0, SameCore: 1, CrossCore: 2}
	sort.SliceStable(rs, func(a, b int) bool {
		x, y := rs[a], rs[b]
		if wi[x.Workload] != wi[y.Workload] {
			return wi[x.Workload] < wi[y.Workload]
		}
		if pi[x.Placement] != pi[y.Placement] {
			return pi[x.Placement] < pi[y.Placement]
		}
		return ii[x.Impl] < ii[y.Impl]
	})
}

// baseReport fills the machine description.
func baseReport(cfg *Config) *Report {
	rep := &Report{
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Duration: cfg.Duration.String(), Started: time.Now(),
	}
	for _, p := range cfg.Placements {
		rep.Placements = append(rep.Placements, string(p))
	}
	rep.CPUModel, rep.Kernel = machine()
	return rep
}

// Names of the reference implementations, and of the goipc lane whose
// server is a child process (`goipc serve --echo --codec length`).
const (
	ImplStd        = "std"
	ImplC          = "c"
	ImplNode       = "node-ipc14"
	ImplGoipcProcs = "goipc/procs"
	// The busy-polling lanes: goipc/length in process and goipc/procs,
	// with both ends spinning up to BusyPoll (goipc.WithBusyPoll).
	ImplGoipcBusy      = "goipc/busy"
	ImplGoipcProcsBusy = "goipc/procs-busy"
)

// BusyPoll is the busy-polling lanes' spin.
const BusyPoll = 50 * time.Microsecond

// Run measures every workload × placement × implementation of cfg and
// returns the report, with ratios and targets filled in. In-process
// implementations skip the cross-core placement (both ends share one Go
// scheduler). A lane that cannot run here (gcc missing, node-ipc not
// installed) gives rows with Skipped set; a failed row has Error set.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if runtime.GOOS != "linux" {
		return nil, ErrUnsupported
	}
	if cfg.Duration <= 0 {
		cfg.Duration = time.Second
	}
	if cfg.Warmup <= 0 {
		cfg.Warmup = min(cfg.Duration/5, 200*time.Millisecond)
	}
	if len(cfg.Placements) == 0 {
		cfg.Placements = []Placement{Unpinned}
	}
	if len(cfg.Impls) == 0 {
		cfg.Impls = AllImpls()
	}
	if len(cfg.Workloads) == 0 {
		cfg.Workloads = Workloads(nil, nil, nil, 0)
	}
	return run(ctx, cfg)
}
