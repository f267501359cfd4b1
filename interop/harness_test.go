package interop

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-fc4a2f4b/goipc/internal/pki"
)

// nodeIPC is one node-ipc release and the Node that runs it.
type nodeIPC struct {
	name string // "14" or "9"
	node string // node binary
	lib  string // node_modules directory holding node-ipc
}

func (v nodeIPC) is9() bool { return v.name == "9" }

var (
	versions  []nodeIPC
	setupErr  error
	repoRoot  string
	peerFile  string
	inCI      = os.Getenv("CI") == "true"
	waitLimit = 15 * time.Second
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Dir(filepath.Dir(file))
	peerFile = filepath.Join(repoRoot, "interop", "node", "peer.mjs")
	setupErr = loadEnv()
	if setupErr != nil && inCI {
		fmt.Fprintf(os.Stderr, "interop: node-ipc peers unavailable in CI: %v\n", setupErr)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// loadEnv reads .cache/interop/env, running interop/setup.sh first when it
// is missing or stale.
func loadEnv() error {
	envFile := filepath.Join(repoRoot, ".cache", "interop", "env")
	env, err := readEnv(envFile)
	if err != nil {
		cmd := exec.Command("bash", filepath.Join(repoRoot, "interop", "setup.sh"))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("interop/setup.sh: %w", err)
		}
		if env, err = readEnv(envFile); err != nil {
			return err
		}
	}
	versions = []nodeIPC{
		{name: "14", node: env["NODE22"], lib: env["IPC14"]},
		{name: "9", node: env["NODE20"], lib: env["IPC9"]},
	}
	return nil
}

func readEnv(file string) (map[string]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	for _, k := range []string{"NODE22", "NODE20", "IPC14", "IPC9"} {
		if _, err := os.Stat(env[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	return env, nil
}

func needNode(t testing.TB) {
	t.Helper()
	if setupErr != nil {
		if inCI {
			t.Fatalf("node-ipc peers unavailable: %v", setupErr)
		}
		t.Skipf("node-ipc peers unavailable (set CI=true to fail instead): %v", setupErr)
	}
}

// forVersions runs fn for node-ipc 14 and 9 as parallel subtests.
func forVersions(t *testing.T, fn func(t *testing.T, v nodeIPC)) {
	needNode(t)
	for _, v := range versions {
		t.Run("node-ipc"+v.name, func(t *testing.T) {
			t.Parallel()
			fn(t, v)
		})
	}
}

// report is one line a peer printed.
type report struct {
	Ev       string          `json:"ev"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
	From     int             `json:"from"`
	Hex      string          `json:"hex"`
	S        string          `json:"s"`
	Port     int             `json:"port"`
	N        int             `json:"n"`
	OK       bool            `json:"ok"`
	Mismatch json.RawMessage `json:"mismatch"`
	Message  string          `json:"message"`
	Rate     float64         `json:"rate"`
	Secs     float64         `json:"secs"`
	Version  string          `json:"version"`
}

// peer is a running node-ipc process.
type peer struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	in     io.WriteCloser
	inMu   sync.Mutex
	lines  chan report
	exited chan struct{}
	errMu  sync.Mutex
	stderr bytes.Buffer
	skipMu sync.Mutex
	skip   []string // recent reports skipped by wait, for failure messages
}

// startPeer starts node-ipc v with cfg (see peer.mjs) and waits for it to
// report ready. It is killed at the end of the test.
func startPeer(t testing.TB, v nodeIPC, cfg map[string]any) *peer {
	t.Helper()
	cfg["lib"] = v.lib
	js, _ := json.Marshal(cfg)
	p := &peer{t: t, name: fmt.Sprintf("node-ipc%s %s %v", v.name, cfg["role"], cfg["net"]),
		lines: make(chan report, 1<<16), exited: make(chan struct{})}
	p.cmd = exec.Command(v.node, peerFile, string(js))
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.errMu.Lock()
		defer p.errMu.Unlock()
		return p.stderr.Write(b)
	})
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var r report
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				r = report{Ev: "unparsed", Message: sc.Text()}
			}
			p.lines <- r
		}
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(p.kill)
	p.wait("ready")
	return p
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *peer) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

func (p *peer) stderrText() string {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.stderr.String()
}

// do sends one command.
func (p *peer) do(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	p.inMu.Lock()
	defer p.inMu.Unlock()
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("%s: command %s: %v (stderr: %s)", p.name, b, err, p.stderrText())
	}
}

// waitFn returns the next report satisfying ok, failing the test after the
// wait limit or when the peer exits.
func (p *peer) waitFn(what string, ok func(r report) bool) report {
	p.t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case r := <-p.lines:
			if ok(r) {
				return r
			}
			if r.Ev == "error" && strings.Contains(r.Message, "\n    at ") {
				p.t.Errorf("%s: peer error: %s", p.name, r.Message)
			}
			p.skipMu.Lock()
			s := fmt.Sprintf("%s %s %.200s%.200s", r.Ev, r.Type, r.Data, r.Message)
			p.skip = append(p.skip, s)
			if len(p.skip) > 20 {
				p.skip = p.skip[1:]
			}
			p.skipMu.Unlock()
		case <-p.exited:
			// Drain what it printed before exiting.
			for {
				select {
				case r := <-p.lines:
					if ok(r) {
						return r
					}
					continue
				default:
				}
				break
			}
			p.t.Fatalf("%s exited while waiting for %s; stderr:\n%s", p.name, what, p.stderrText())
		case <-timer.C:
			p.skipMu.Lock()
			skipped := strings.Join(p.skip, "\n  ")
			p.skipMu.Unlock()
			p.t.Fatalf("%s: no %s within %v; recent reports:\n  %s\nstderr:\n%s", p.name, what, waitLimit, skipped, p.stderrText())
		}
	}
}

func (p *peer) wait(ev string) report {
	p.t.Helper()
	return p.waitFn(ev, func(r report) bool { return r.Ev == ev })
}

// event waits for the wire event typ.
func (p *peer) event(typ string) report {
	p.t.Helper()
	return p.waitFn("event "+typ, func(r report) bool { return r.Ev == "event" && r.Type == typ })
}

// rawBytes collects n bytes of raw chunks.
func (p *peer) rawBytes(n int) []byte {
	p.t.Helper()
	var got []byte
	for len(got) < n {
		r := p.waitFn(fmt.Sprintf("raw bytes (%d of %d)", len(got), n), func(r report) bool { return r.Ev == "raw" })
		b, err := hexDecode(r.Hex)
		if err != nil {
			p.t.Fatal(err)
		}
		got = append(got, b...)
	}
	return got
}

// exitWithin reports whether the process ended within d.
func (p *peer) exitWithin(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	case <-time.After(d):
		return false
	}
}

// shortDir is a temporary directory with a short path (Unix socket paths
// are limited to 107 bytes), removed after the test.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// freePort returns a port nobody listens on right now (network "tcp" or
// "udp", host "127.0.0.1" or "::1").
func freePort(t testing.TB, network, host string) int {
	t.Helper()
	addr := net.JoinHostPort(host, "0")
	if network == "udp" {
		c, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testCA is a throwaway CA (internal/pki) with certificates for
// 127.0.0.1, ::1 and localhost.
type testCA struct {
	ca     *pki.CA
	caFile string
}

func newPKI(t testing.TB) *testCA {
	t.Helper()
	ca, err := pki.NewCA(t.TempDir(), "interop CA")
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{ca: ca, caFile: ca.File}
}

func (p *testCA) issue(t testing.TB, cn string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := p.ca.Issue(cn)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func hexEncode(b []byte) string { return hex.EncodeToString(b) }
