//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AllImpls returns every implementation, in table order.
func AllImpls() []Impl {
	return []Impl{
		&goipcImpl{codec: "event"}, &goipcImpl{codec: "length"}, &goipcImpl{codec: "length", batch: true}, newProcsImpl(),
		&goipcImpl{codec: "length", busy: BusyPoll}, newProcsBusyImpl(), &goipcImpl{codec: "json"}, &goipcImpl{codec: "raw"},
		udpBatchImpl{}, stdImpl{}, &cImpl{}, &nodeImpl{},
	}
}

// ImplsNamed returns the implementations named: "goipc" stands for every
// goipc lane (each codec in process, goipc/batch, goipc/procs, goipc/busy,
// goipc/procs-busy, goipc/udp-batch).
func ImplsNamed(names []string) ([]Impl, error) {
	all := AllImpls()
	var out []Impl
	for _, n := range names {
		found := false
		for _, im := range all {
			if im.Name() == n || (n == "goipc" && strings.HasPrefix(im.Name(), "goipc/")) || (n == "node" && im.Name() == ImplNode) {
				out = append(out, im)
				found = true
			}
		}
		if !found {
			var s []string
			for _, im := range all {
				s = append(s, im.Name())
			}
			return nil, fmt.Errorf("bench: unknown implementation %q (want goipc, %s)", n, strings.Join(s, ", "))
		}
	}
	return out, nil
}

func run(ctx context.Context, cfg Config) (*Report, error) {
	rep := baseReport(&cfg)
	repo := cfg.Repo
	if repo == "" {
		repo = findRepo()
	}
	cache := cfg.CacheDir
	if cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "goipc-bench")
		} else {
			cache = filepath.Join(os.TempDir(), "goipc-bench-cache")
		}
	}
	dir, err := os.MkdirTemp("", "gbc")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if runtime.NumCPU() < 2 {
		rep.Notes = append(rep.Notes, "one CPU: cross-core placement runs on CPU 0 as well")
	}
	avail := map[string]error{}
	base := &Env{Duration: cfg.Duration, Warmup: cfg.Warmup, Dir: dir, Repo: repo, CacheDir: cache, ServerCPU: -1, ClientCPU: -1}
	for _, im := range cfg.Impls {
		avail[im.Name()] = im.Available(ctx, base)
		if err := avail[im.Name()]; err != nil {
			rep.Notes = append(rep.Notes, im.Name()+": "+err.Error())
		}
	}
	for _, w := range cfg.Workloads {
		if w.Kind == Idle {
			if n, err := raiseNOFILE(uint64(2*w.Conns + 512)); err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("RLIMIT_NOFILE could not be raised to %d (%v): the idle workload runs with at most %d connections", 2*w.Conns+512, err, (n-512)/2))
			}
		}
	}
	var rows []Result
	for _, w := range cfg.Workloads {
		for _, p := range cfg.Placements {
			for _, im := range cfg.Impls {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if im.InProcess() && p == CrossCore {
					continue
				}
				r := Result{Workload: w.Name(), Kind: w.Kind, Transport: w.Transport, Size: w.Size, Impl: im.Name(), Placement: p}
				if err := avail[im.Name()]; err != nil {
					r.Skipped = err.Error()
					rows = append(rows, r)
					continue
				}
				if cfg.Progress != nil {
					fmt.Fprintf(cfg.Progress, "bench: %s %s %s\n", w.Name(), p, im.Name())
				}
				env := *base
				env.Place = p
				m, err := runOne(ctx, im, &env, w)
				switch {
				case errors.Is(err, ErrNotApplicable):
					r.Skipped = "not implemented for this lane"
				case err != nil:
					r.Error = strings.Join(strings.Fields(err.Error()), " ")
				default:
					toResult(&r, m, im.InProcess() || isHarnessClient(im))
				}
				rows = append(rows, r)
			}
		}
	}
	sortResults(rows, cfg.Workloads, cfg.Impls)
	addRatios(rows)
	rep.Results = rows
	rep.Targets = Targets(rows)
	rep.Took = time.Since(rep.Started).Round(time.Second).String()
	return rep, nil
}

// runOne applies the placement and runs w on im.
func runOne(ctx context.Context, im Impl, env *Env, w Workload) (Measure, error) {
	env.ServerCPU, env.ClientCPU = -1, -1
	ncpu := runtime.NumCPU()
	switch env.Place {
	case SameCore:
		env.ServerCPU, env.ClientCPU = 0, 0
	case CrossCore:
		env.ServerCPU, env.ClientCPU = 0, min(1, ncpu-1)
	}
	switch {
	case im.InProcess() && env.Place == SameCore:
		restore, err := pinProcess(0)
		if err != nil {
			return Measure{}, fmt.Errorf("pinning to CPU 0: %w", err)
		}
		defer restore()
	case isHarnessClient(im) && env.ClientCPU >= 0:
		// The client end runs here, the server in a child process that
		// the impl places on env.ServerCPU itself.
		restore, err := pinProcess(env.ClientCPU)
		if err != nil {
			return Measure{}, fmt.Errorf("pinning to CPU %d: %w", env.ClientCPU, err)
		}
		defer restore()
	}
	wctx, cancel := context.WithTimeout(ctx, 3*env.Duration+60*time.Second)
	defer cancel()
	runtime.GC()
	return measure(wctx, im, env, w)
}

// pinProcess pins every thread of the process to cpu and sets GOMAXPROCS
// to 1 (what a Go program started under taskset -c cpu gets); restore
// undoes both.
func pinProcess(cpu int) (restore func(), err error) {
	var orig unix.CPUSet
	if err := unix.SchedGetaffinity(0, &orig); err != nil {
		return nil, err
	}
	var set unix.CPUSet
	set.Set(cpu)
	setAll := func(s *unix.CPUSet) error {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		var first error
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, s); err != nil && !errors.Is(err, unix.ESRCH) && first == nil {
				first = err
			}
		}
		return first
	}
	prev := runtime.GOMAXPROCS(1)
	if err := setAll(&set); err != nil {
		setAll(&orig)
		runtime.GOMAXPROCS(prev)
		return nil, err
	}
	return func() {
		setAll(&orig)
		runtime.GOMAXPROCS(prev)
	}, nil
}

// raiseNOFILE raises the soft (and if needed, the hard) file limit to at
// least want; it returns the limit in force.
func raiseNOFILE(want uint64) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur >= want {
		return rl.Cur, nil
	}
	n := rl
	n.Cur = want
	if n.Max < want {
		n.Max = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		// Without privilege: as far as the hard limit goes.
		rl.Cur = rl.Max
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err2 != nil {
			return rl.Cur, err2
		}
		return rl.Max, err
	}
	return want, nil
}

// nofile returns the current soft file limit.
func nofile() uint64 {
	var rl syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	return rl.Cur
}

// vmRSS returns the process's resident set in bytes.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// machine describes the CPU and the kernel.
func machine() (cpu, kernel string) {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		kernel = unix.ByteSliceToString(u.Release[:])
	}
	return cpu, kernel
}

// findRepo walks up from the working directory to goipc's go.mod.
func findRepo() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/seed-fc4a2f4b/goipc\n")) {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			return ""
		}
		d = p
	}
}

// ---- child processes ----

// child is a peer process (C or node), optionally under taskset.
type child struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuf
	done   chan struct{}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.TrimSpace(l.b.String())
}

// startChild runs name args, under `taskset -c cpu` when cpu >= 0.
func startChild(cpu int, name string, args ...string) (*child, error) {
	if cpu >= 0 {
		args = append([]string{"-c", strconv.Itoa(cpu), name}, args...)
		name = "taskset"
	}
	cmd := exec.Command(name, args...)
	c := &child{cmd: cmd, lines: make(chan string, 64), stderr: &lockedBuf{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case c.lines <- sc.Text():
			default:
			}
		}
		close(c.lines)
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(c.done) }()
	return c, nil
}

// line waits for a stdout line starting with prefix.
func (c *child) line(ctx context.Context, prefix string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				<-c.done
				return "", fmt.Errorf("%s exited before printing %q: %s", filepath.Base(c.cmd.Path), prefix, c.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-t.C:
			return "", fmt.Errorf("%s printed no %q within %v: %s", filepath.Base(c.cmd.Path), prefix, timeout, c.stderr.String())
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// listening waits (at most 10 s) for the server's "<prefix><address>"
// line and returns the address.
func (c *child) listening(ctx context.Context, prefix string) (string, error) {
	l, err := c.line(ctx, prefix, 10*time.Second)
	return strings.TrimPrefix(l, prefix), err
}

// wait waits for the process to exit.
func (c *child) wait(ctx context.Context, timeout time.Duration) error {
	select {
	case <-c.done:
		if !c.cmd.ProcessState.Success() {
			return fmt.Errorf("%s: %s: %s", filepath.Base(c.cmd.Path), c.cmd.ProcessState, c.stderr.String())
		}
		return nil
	case <-time.After(timeout):
		c.kill()
		return fmt.Errorf("%s did not finish within %v", filepath.Base(c.cmd.Path), timeout)
	case <-ctx.Done():
		c.kill()
		return ctx.Err()
	}
}

// stop asks the process to end (SIGINT: a goipc server closes gracefully
// and removes its socket file), kills it after timeout and waits for it.
func (c *child) stop(timeout time.Duration) {
	c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.kill()
	}
}

// kill ends the process (SIGKILL) and waits for it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// fields parses "k1 v1 k2 v2 ..." into a map.
func fields(line string) map[string]float64 {
	f := strings.Fields(line)
	m := map[string]float64{}
	for i := 0; i+1 < len(f); i += 2 {
		v, _ := strconv.ParseFloat(f[i+1], 64)
		m[f[i]] = v
	}
	return m
}

// mallocs returns the process's allocation count.
func mallocs() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Mallocs)
}

// sleepCtx sleeps for d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
