//go:build linux

package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/internal/faultproxy"
)

// peerBin is the helper process (testdata/peer), built by TestMain.
var peerBin string

// nofile is RLIMIT_NOFILE after TestMain raised it.
var nofile syscall.Rlimit

func TestMain(m *testing.M) {
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile); err == nil {
		before := nofile.Cur
		nofile.Cur = nofile.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &nofile); err != nil {
			fmt.Fprintf(os.Stderr, "reliability: cannot raise RLIMIT_NOFILE: %v\n", err)
		}
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
		fmt.Fprintf(os.Stderr, "reliability: RLIMIT_NOFILE %d -> %d (hard %d)\n", before, nofile.Cur, nofile.Max)
	}
	dir, err := os.MkdirTemp("", "goipc-rel")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	peerBin = filepath.Join(dir, "peer")
	build := exec.Command("go", "build", "-o", peerBin, "./testdata/peer")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "reliability: building testdata/peer: %v\n", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// shortTempDir keeps socket paths under sun_path's 108 bytes.
func shortTempDir(t testing.TB) string {
	d, err := os.MkdirTemp("", "gr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// listenAddr returns a fresh goipc address on network ("unix" or "tcp").
func listenAddr(t testing.TB, network string) string {
	if network == "unix" {
		return "unix://" + shortTempDir(t) + "/s.sock"
	}
	return "tcp://127.0.0.1:0"
}

// newServer binds addr; register handlers, then start.
func newServer(t testing.TB, addr string, opts ...goipc.Option) *goipc.Server {
	t.Helper()
	srv, err := goipc.Listen(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// start serves srv until the test ends.
func start(t testing.TB, srv *goipc.Server) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return")
		}
	})
}

// splitAddr turns a goipc stream address into a net network and address.
func splitAddr(addr string) (network, a string) {
	if p, ok := strings.CutPrefix(addr, "unix://"); ok {
		return "unix", p
	}
	return "tcp", strings.TrimPrefix(addr, "tcp://")
}

// proxyFor starts a fault proxy in front of srv, on the same transport.
func proxyFor(t testing.TB, srv *goipc.Server) (*faultproxy.Proxy, string) {
	t.Helper()
	network, target := splitAddr(srv.Addr())
	laddr := "127.0.0.1:0"
	if network == "unix" {
		laddr = filepath.Join(shortTempDir(t), "p.sock")
	}
	p, err := faultproxy.New(network, laddr, network, target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if network == "unix" {
		return p, "unix://" + p.Addr().String()
	}
	return p, "tcp://" + p.Addr().String()
}

// waitUntil polls cond every millisecond until it holds or d passes.
func waitUntil(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// collector keeps the messages a handler saw, cloned, in arrival order.
type collector struct {
	mu   sync.Mutex
	msgs []goipc.Message
}

func (c *collector) add(m goipc.Message) {
	m = m.Clone()
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}

func (c *collector) data() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = string(m.Data)
	}
	return out
}

// body returns a message body valid in both event and JSON mode: a JSON
// string of n >= 12 bytes tagged with tag and i.
func body(tag string, i, n int) []byte {
	s := fmt.Sprintf("%s-%06d-", tag, i)
	if pad := n - len(s) - 2; pad > 0 {
		s += strings.Repeat(string(rune('a'+i%26)), pad)
	}
	return []byte(`"` + s + `"`)
}

// dialClient connects a client to addr with handlers registered first.
func dialClient(t testing.TB, addr string, setup func(*goipc.Client), opts ...goipc.Option) *goipc.Client {
	t.Helper()
	cl, err := goipc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(cl)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// memSnapshot returns memory stats after a GC.
func memSnapshot() runtime.MemStats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// rss returns the process's resident set size in bytes.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, res uint64
	fmt.Sscan(string(b), &size, &res)
	return res * uint64(os.Getpagesize())
}

// child is a running helper process with its stdout as lines.
type child struct {
	cmd   *exec.Cmd
	lines chan string
	stdin io.WriteCloser
	done  chan error
}

func startChild(t testing.TB, args ...string) *child {
	t.Helper()
	cmd := exec.Command(peerBin, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 1<<16), stdin: in, done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		in.Close()
	})
	return c
}

// line waits for the child's next line with the given prefix, skipping
// others.
func (c *child) line(t testing.TB, d time.Duration, prefix string) string {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("child exited waiting for %q: %v", prefix, <-c.done)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("child: no %q line within %v", prefix, d)
		}
	}
}

func forNetworks(t *testing.T, fn func(t *testing.T, network string)) {
	for _, n := range []string{"unix", "tcp"} {
		t.Run(n, func(t *testing.T) { fn(t, n) })
	}
}

func forNetCodec(t *testing.T, fn func(t *testing.T, network string, codec goipc.Codec)) {
	for _, n := range []string{"unix", "tcp"} {
		for _, c := range []struct {
			name  string
			codec goipc.Codec
		}{{"event", goipc.EventCodec()}, {"json", goipc.JSONCodec()}} {
			t.Run(n+"/"+c.name, func(t *testing.T) { fn(t, n, c.codec) })
		}
	}
}

// runtimeMemStats reads memory statistics without a GC, for sampling.
type runtimeMemStats struct{ runtime.MemStats }

func (m *runtimeMemStats) read() { runtime.ReadMemStats(&m.MemStats) }
