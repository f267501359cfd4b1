package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/bench"
)

const benchExamples = `  goipc bench                                        # unix, 64 and 1024 B, 1 and 64 in flight, 1s a row
  goipc bench --transports unix,tcp,udp --sizes 64,1024,65536 --inflight 1,16,256 --duration 3s
  goipc bench --codec json --json > results.json     # node-ipc's wire format, machine-readable
  goipc bench --processes                            # server in a child process (goipc serve --echo)
  taskset -c 0 goipc bench                           # pin to one core: placement changes results
  goipc bench --compare                              # side by side with std net, C and node-ipc (see --compare -h)

Each row runs an echo server and one client that keeps N messages in flight
(a new one leaves when a reply arrives) for --duration after a short
warm-up. msgs/s counts round trips; MB/s is msgs/s × size, one way; p50 and
p99 are round-trip latencies (with more than one in flight they include
queueing); allocs/msg is the process's heap allocations (client and
server) per round trip, in-process only.
`

// benchEvent is the event name bench messages carry.
const benchEvent = "bench"

// benchRow is one result: one transport, message size and in-flight count.
type benchRow struct {
	Transport    string   `json:"transport"`
	Size         int      `json:"size"`
	Inflight     int      `json:"inflight"`
	Messages     int64    `json:"messages"`
	Seconds      float64  `json:"seconds"`
	MsgsPerSec   float64  `json:"msgs_per_sec"`
	MBPerSec     float64  `json:"mb_per_sec"`
	P50us        float64  `json:"p50_us"`
	P99us        float64  `json:"p99_us"`
	AllocsPerMsg *float64 `json:"allocs_per_msg"` // null when the server is another process
	Resent       int64    `json:"resent,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// benchReport is bench's --json output.
type benchReport struct {
	Version   string     `json:"version"`
	GoVersion string     `json:"go"`
	GOOS      string     `json:"goos"`
	GOARCH    string     `json:"goarch"`
	CPUs      int        `json:"cpus"`
	Codec     string     `json:"codec"`
	Server    string     `json:"server"` // "in-process" or "process"
	Duration  string     `json:"duration"`
	Results   []benchRow `json:"results"`
}

// benchConfig is what every row shares.
type benchConfig struct {
	codec     goipc.Codec
	duration  time.Duration
	warmup    time.Duration
	processes bool
	busyPoll  time.Duration // --busy-poll, for both ends
	childArgs []string      // codec and busy-poll flags passed to `goipc serve` children
}

// runBench is `goipc bench`: round trips against an echo server for each
// transport × size × in-flight count, as a table or --json.
func runBench(ctx context.Context, e *env, args []string) error {
	if rest, ok := cutFlag(args, "compare"); ok {
		return runCompare(ctx, e, rest)
	}
	f := newFlags("bench", "goipc bench [--transports unix,tcp,udp,tls] [--sizes 64,1024] [--inflight 1,64] [--duration 1s] [--processes] [--json] [codec flags]", benchExamples)
	transports := f.fs.String("transports", "unix", "comma-separated `list` of unix, tcp, udp, tls")
	sizes := f.fs.String("sizes", "64,1024", "comma-separated payload sizes in bytes (K/M suffixes)")
	inflight := f.fs.String("inflight", "1,64", "comma-separated counts of messages kept in flight")
	duration := f.fs.Duration("duration", time.Second, "measuring time per row (after a warm-up of a fifth of it, at most 200ms)")
	jsonOut := f.fs.Bool("json", false, "print a JSON report instead of the table")
	processes := f.fs.Bool("processes", false, "run the server as a child process (this binary's `goipc serve --echo`)")
	pos, err := f.parse(args, e.stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("bench: unexpected arguments %q (bench makes its own addresses)", pos)
	}
	if f.tls.set() {
		return usagef("bench: --tls-* flags are not used: bench makes its own certificates for --transports tls")
	}
	codec, err := f.buildCodec()
	if err != nil {
		return err
	}
	if *duration <= 0 {
		return usagef("bench: --duration must be positive")
	}
	var ts []string
	for _, t := range splitList(*transports) {
		switch t {
		case "unix", "tcp", "udp", "tls":
		default:
			return usagef("bench: --transports: unknown transport %q (want unix, tcp, udp, tls)", t)
		}
		if t == "udp" && codec.Mode() == goipc.ModeRaw {
			return usagef("bench: --codec raw over udp is not supported (lost datagrams break raw streams)")
		}
		ts = append(ts, t)
	}
	ss, err := intList("sizes", *sizes, true)
	if err != nil {
		return err
	}
	ns, err := intList("inflight", *inflight, false)
	if err != nil {
		return err
	}
	if len(ts) == 0 {
		return usagef("bench: --transports is empty")
	}
	minSize := 1
	switch codec.Mode() {
	case goipc.ModeEvent, goipc.ModeLength:
		minSize = 8
	case goipc.ModeJSON:
		minSize = 18
	}
	for _, s := range ss {
		if s < minSize {
			return usagef("bench: --sizes %d: the %s codec needs at least %d bytes (a timestamp rides in each message)", s, codec.Mode(), minSize)
		}
	}
	cfg := benchConfig{codec: codec, duration: *duration, warmup: min(*duration/5, 200*time.Millisecond), processes: *processes, busyPoll: f.busyPoll}
	f.fs.Visit(func(fl *flag.Flag) {
		if sharedFlags[fl.Name] && !strings.HasPrefix(fl.Name, "tls-") {
			cfg.childArgs = append(cfg.childArgs, "--"+fl.Name+"="+fl.Value.String())
		}
	})

	dir, err := os.MkdirTemp("", "goipc-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prog := newProgress(e.stderr, len(ts)*len(ss)*len(ns))
	var rows []benchRow
	for _, t := range ts {
		r, err := benchTransport(ctx, e, cfg, dir, t, ss, ns, prog)
		rows = append(rows, r...)
		if err != nil {
			prog.done()
			return err
		}
	}
	prog.done()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	server := "in-process"
	if cfg.processes {
		server = "process"
	}
	rep := benchReport{
		Version: versionString(), GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		CPUs: runtime.NumCPU(), Codec: codec.Mode().String(), Server: server, Duration: duration.String(), Results: rows,
	}
	if *jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printTable(e.stdout, rep)
	for _, r := range rows {
		if r.Error != "" {
			return errors.New("bench: some rows failed")
		}
	}
	return nil
}

// cutFlag removes the boolean flag --name (or -name) from args and reports
// whether it was there.
func cutFlag(args []string, name string) ([]string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		if a == "--"+name || a == "-"+name {
			return append(append([]string(nil), args[:i]...), args[i+1:]...), true
		}
	}
	return args, false
}

// intList parses a comma-separated list of positive numbers (byte sizes
// with K/M suffixes when sizes is true).
func intList(name, s string, sizes bool) ([]int, error) {
	var out []int
	for _, p := range splitList(s) {
		var n int64
		var err error
		if sizes {
			n, err = parseByteSize(p)
		} else {
			n, err = strconv.ParseInt(p, 10, 32)
		}
		if err != nil || n <= 0 || n > 1<<30 {
			return nil, usagef("bench: --%s: bad value %q (want positive numbers, comma-separated)", name, p)
		}
		out = append(out, int(n))
	}
	if len(out) == 0 {
		return nil, usagef("bench: --%s is empty", name)
	}
	return out, nil
}

// printTable prints rep's rows with a header line.
func printTable(w io.Writer, rep benchReport) {
	fmt.Fprintf(w, "goipc bench: codec %s, server %s, %s per row, %s/%s, %d CPUs, %s\n\n",
		rep.Codec, rep.Server, rep.Duration, rep.GOOS, rep.GOARCH, rep.CPUs, rep.GoVersion)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\tsize\tin-flight\tmsgs/s\tMB/s\tp50\tp99\tallocs/msg\t")
	for _, r := range rep.Results {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t%d\t%d\terror: %s\t\t\t\t\t\n", r.Transport, r.Size, r.Inflight, r.Error)
			continue
		}
		allocs := "-"
		if r.AllocsPerMsg != nil {
			allocs = strconv.FormatFloat(*r.AllocsPerMsg, 'f', 2, 64)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.1f\t%s\t%s\t%s\t\n", r.Transport, r.Size, r.Inflight,
			r.MsgsPerSec, r.MBPerSec, fmtMicros(r.P50us), fmtMicros(r.P99us), allocs)
	}
	tw.Flush()
}

// fmtMicros formats a latency in microseconds.
func fmtMicros(us float64) string {
	if us >= 10000 {
		return strconv.FormatFloat(us/1000, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(us, 'f', 1, 64) + "µs"
}

// progress shows which row runs, on stderr: one updating line on a
// terminal, a line per row otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	total int
	n     int
}

func newProgress(w io.Writer, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, tty: tty, total: total}
}

// row announces the next row.
func (p *progress) row(transport string, size, inflight int) {
	p.n++
	msg := fmt.Sprintf("bench [%d/%d] %s, %d B, %d in flight", p.n, p.total, transport, size, inflight)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s …", msg)
		return
	}
	fmt.Fprintln(p.w, msg)
}

// done clears the progress line.
func (p *progress) done() {
	if p.tty && p.n > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// benchTransport runs the rows of one transport against one server.
func benchTransport(ctx context.Context, e *env, cfg benchConfig, dir, transport string, sizes, inflights []int, prog *progress) ([]benchRow, error) {
	listen := map[string]string{
		"unix": "unix://" + filepath.Join(dir, transport+".sock"),
		"tcp":  "tcp://127.0.0.1:0",
		"udp":  "udp://127.0.0.1:0",
		"tls":  "tls://127.0.0.1:0",
	}[transport]
	var srvTLS, clTLS tlsFlags
	if transport == "tls" {
		var err error
		if srvTLS, clTLS, err = benchTLS(dir); err != nil {
			return nil, err
		}
	}
	codecOpt := goipc.WithCodec(cfg.codec)
	srvOpts := []goipc.Option{codecOpt}
	clOpts := []goipc.Option{codecOpt}
	if cfg.busyPoll > 0 {
		bp := goipc.WithBusyPoll(cfg.busyPoll)
		srvOpts, clOpts = append(srvOpts, bp), append(clOpts, bp)
	}
	if transport == "tls" {
		so, err := tlsOption(srvTLS)
		if err != nil {
			return nil, err
		}
		co, err := tlsOption(clTLS)
		if err != nil {
			return nil, err
		}
		srvOpts, clOpts = append(srvOpts, so), append(clOpts, co)
	}

	var addr string
	if cfg.processes {
		args := append([]string{"serve", listen, "--echo"}, cfg.childArgs...)
		if transport == "tls" {
			args = append(args, "--tls-cert", srvTLS.cert, "--tls-key", srvTLS.key)
		}
		child, a, err := startChild(ctx, e, args)
		if err != nil {
			return nil, fmt.Errorf("bench: server process: %w", err)
		}
		defer child.stop()
		addr = a
	} else {
		srv, err := goipc.Listen(listen, srvOpts...)
		if err != nil {
			return nil, fmt.Errorf("bench: listen %s: %w", listen, err)
		}
		setupEcho(srv, cfg.codec.Mode())
		sctx, cancel := context.WithCancel(context.Background())
		served := make(chan struct{})
		go func() { srv.Serve(sctx); close(served) }()
		defer func() { cancel(); <-served }()
		addr = srv.Addr()
	}

	var out []benchRow
	for _, size := range sizes {
		for _, n := range inflights {
			if ctx.Err() != nil {
				return out, nil
			}
			prog.row(transport, size, n)
			r := benchRow{Transport: transport, Size: size, Inflight: n}
			if err := benchOne(ctx, cfg, addr, clOpts, transport == "udp", &r); err != nil {
				r.Error = errText(err)[len("goipc: "):]
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// child is a `goipc serve` child process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild runs this binary with args (a serve command) and waits for
// its "listening on ADDR" line, returning ADDR.
func startChild(ctx context.Context, e *env, args []string) (*child, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = e.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		lines <- line
		io.Copy(io.Discard, r)
	}()
	go func() { cmd.Wait(); close(c.done) }()
	select {
	case line := <-lines:
		if a, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on "); ok {
			return c, a, nil
		}
		c.stop()
		return nil, "", fmt.Errorf("unexpected first line %q from %s", line, strings.Join(args, " "))
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
	}
	c.stop()
	return nil, "", errors.New("the server process did not start listening within 10s")
}

// stop asks the child to shut down gracefully and kills it after 5 s.
func (c *child) stop() {
	if runtime.GOOS == "windows" {
		c.cmd.Process.Kill()
	} else {
		c.cmd.Process.Signal(os.Interrupt)
	}
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// benchClient keeps inflight messages going and records their round trips.
type benchClient struct {
	cl   *goipc.Client
	mode goipc.Mode
	size int
	base time.Time

	measuring atomic.Bool
	stopped   atomic.Bool
	replies   atomic.Int64 // all replies, for the UDP watchdog
	resent    atomic.Int64 // messages sent again by the UDP watchdog

	mu    sync.Mutex // guards hist, count and, in raw mode, the FIFO
	hist  bench.Histogram
	count int64

	// raw mode: replies are a byte stream; send times wait in a FIFO.
	fifo       []int64
	head, tail int
	queued     int
	acc        int

	replyBuf []byte // used by the reply handler only
}

// now returns the time since b.base in nanoseconds.
func (b *benchClient) now() int64 { return int64(time.Since(b.base)) }

// send sends one message carrying the send time, using buf (its own per
// calling goroutine) for the payload.
func (b *benchClient) send(buf []byte) error {
	t := b.now()
	switch b.mode {
	case goipc.ModeEvent, goipc.ModeLength:
		binary.BigEndian.PutUint64(buf, uint64(t))
	case goipc.ModeJSON:
		const hexd = "0123456789abcdef"
		for i := 0; i < 16; i++ {
			buf[1+i] = hexd[(uint64(t)>>(60-4*i))&15]
		}
	case goipc.ModeRaw:
		b.mu.Lock()
		b.fifo[b.tail] = t
		b.tail = (b.tail + 1) % len(b.fifo)
		b.queued++
		b.mu.Unlock()
	}
	switch b.mode {
	case goipc.ModeEvent, goipc.ModeJSON:
		return b.cl.Emit(benchEvent, buf)
	}
	return b.cl.Send(buf)
}

// newPayload returns a payload buffer of the row's size.
func (b *benchClient) newPayload() []byte {
	p := make([]byte, b.size)
	if b.mode == goipc.ModeJSON {
		for i := range p {
			p[i] = 'x'
		}
		p[0], p[len(p)-1] = '"', '"'
	}
	return p
}

// sentAt decodes the send time from a reply.
func (b *benchClient) sentAt(p []byte) int64 {
	if b.mode == goipc.ModeJSON {
		var t uint64
		for _, c := range p[1:17] {
			v := uint64(c - '0')
			if c >= 'a' {
				v = uint64(c-'a') + 10
			}
			t = t<<4 | v
		}
		return int64(t)
	}
	return int64(binary.BigEndian.Uint64(p))
}

// record counts one round trip that started at sent.
func (b *benchClient) record(sent int64) {
	b.replies.Add(1)
	if b.measuring.Load() {
		b.mu.Lock()
		b.hist.Add(time.Duration(b.now() - sent))
		b.count++
		b.mu.Unlock()
	}
}

// onReply handles a reply message (event, json, length modes).
func (b *benchClient) onReply(p []byte) {
	if len(p) != b.size {
		return
	}
	b.record(b.sentAt(p))
	if !b.stopped.Load() {
		_ = b.send(b.replyBuf)
	}
}

// onRaw handles echoed bytes in raw mode: every size bytes complete the
// oldest message in flight.
func (b *benchClient) onRaw(p []byte) {
	b.acc += len(p)
	for b.acc >= b.size {
		b.acc -= b.size
		b.mu.Lock()
		if b.queued == 0 {
			b.mu.Unlock()
			return
		}
		sent := b.fifo[b.head]
		b.head = (b.head + 1) % len(b.fifo)
		b.queued--
		b.mu.Unlock()
		b.record(sent)
		if !b.stopped.Load() {
			_ = b.send(b.replyBuf)
		}
	}
}

// benchOne measures one row into r.
func benchOne(ctx context.Context, cfg benchConfig, addr string, opts []goipc.Option, udp bool, r *benchRow) error {
	b := &benchClient{mode: cfg.codec.Mode(), size: r.Size, base: time.Now()}
	b.replyBuf = b.newPayload()
	if b.mode == goipc.ModeRaw {
		b.fifo = make([]int64, r.Inflight+1)
	}
	cl, err := goipc.NewClient(addr, append(opts, goipc.WithRingSize(max(64<<10, 2*r.Inflight*(r.Size+64))))...)
	if err != nil {
		return err
	}
	b.cl = cl
	defer func() {
		b.stopped.Store(true)
		cl.Close()
	}()
	switch b.mode {
	case goipc.ModeEvent, goipc.ModeJSON:
		cl.Handle(benchEvent, func(m goipc.Message) { b.onReply(m.Data) })
	case goipc.ModeLength:
		cl.OnData(b.onReply)
	default:
		cl.OnData(b.onRaw)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cl.Connect(cctx); err != nil {
		return fmt.Errorf("connect %s: %w", addr, err)
	}
	prime := func(buf []byte) error {
		for i := 0; i < r.Inflight; i++ {
			if err := b.send(buf); err != nil {
				return err
			}
		}
		return nil
	}
	if err := prime(b.newPayload()); err != nil {
		return err
	}
	if udp {
		// A lost datagram would shrink the window for good: when no reply
		// came for 100ms, send a new window.
		go func() {
			buf := b.newPayload()
			last := int64(-1)
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for range t.C {
				if b.stopped.Load() {
					return
				}
				if n := b.replies.Load(); n != last {
					last = n
					continue
				}
				if prime(buf) == nil {
					b.resent.Add(int64(r.Inflight))
				}
			}
		}()
	}
	if !sleepCtx(ctx, cfg.warmup) {
		return ctx.Err()
	}
	var ms0, ms1 runtime.MemStats
	if !cfg.processes {
		runtime.ReadMemStats(&ms0)
	}
	t0 := time.Now()
	b.measuring.Store(true)
	ok := sleepCtx(ctx, cfg.duration)
	b.measuring.Store(false)
	elapsed := time.Since(t0)
	if !cfg.processes {
		runtime.ReadMemStats(&ms1)
	}
	b.stopped.Store(true)
	if !ok {
		return ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	r.Messages = b.count
	r.Seconds = elapsed.Seconds()
	r.MsgsPerSec = float64(b.count) / elapsed.Seconds()
	r.MBPerSec = r.MsgsPerSec * float64(r.Size) / 1e6
	r.P50us = float64(b.hist.Quantile(0.50)) / 1e3
	r.P99us = float64(b.hist.Quantile(0.99)) / 1e3
	if b.count == 0 {
		return errors.New("no replies")
	}
	if !cfg.processes {
		a := float64(ms1.Mallocs-ms0.Mallocs) / float64(b.count)
		r.AllocsPerMsg = &a
	}
	r.Resent = b.resent.Load()
	return nil
}

// sleepCtx sleeps for d, reporting false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
