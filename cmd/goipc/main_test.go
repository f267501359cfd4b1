package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goipcBin is the goipc binary built once by TestMain; the tests run it as
// a subprocess.
var goipcBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goipc-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goipcBin = filepath.Join(dir, "goipc")
	if runtime.GOOS == "windows" {
		goipcBin += ".exe"
	}
	args := []string{"build", "-o", goipcBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished subprocess.
type result struct {
	code           int
	stdout, stderr string
}

// runGoipc runs the binary with args and stdin to completion, bounded by
// timeout.
func runGoipc(t *testing.T, timeout time.Duration, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goipcBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("goipc %s: timed out after %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), timeout, r.stdout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("goipc %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// server is a running `goipc serve` child.
type server struct {
	addr   string
	lines  chan string // stdout after the listening line
	stderr *bufio.Scanner
	stdin  io.WriteCloser
}

// startServe starts `goipc serve args...`, reads its "listening on ADDR"
// line (the readiness signal) and returns the server. The child is killed
// by t.Cleanup.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := exec.CommandContext(ctx, goipcBin, append([]string{"serve"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
	})
	s := &server{lines: make(chan string, 100), stderr: bufio.NewScanner(stderr), stdin: stdin}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		} else {
			close(first)
		}
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	select {
	case line, ok := <-first:
		a, found := strings.CutPrefix(line, "listening on ")
		if !ok || !found {
			t.Fatalf("serve %v: first line %q, want \"listening on ADDR\"", args, line)
		}
		s.addr = a
	case <-ctx.Done():
		t.Fatalf("serve %v: no listening line", args)
	}
	return s
}

// nextLine returns the server's next stdout line, failing after 10 s.
func (s *server) nextLine(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-s.lines:
		if !ok {
			t.Fatal("server stdout closed")
		}
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("no line from the server within 10s")
	}
	return ""
}

// shortDir returns a temporary directory with a short path (sun_path is
// about 100 bytes).
func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "gc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestServeSendRoundTrip(t *testing.T) {
	for _, tc := range []struct{ name, addr string }{
		{"unix", "unix://" + filepath.Join(shortDir(t), "s.sock")},
		{"tcp", "tcp://127.0.0.1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "unix" && runtime.GOOS == "windows" {
				t.Skip("no unix sockets")
			}
			// A printing server shows what send sent.
			s := startServe(t, tc.addr)
			if tc.name == "tcp" && strings.HasSuffix(s.addr, ":0") {
				t.Fatalf("listening line %q has port 0", s.addr)
			}
			r := runGoipc(t, 20*time.Second, "", "send", s.addr, "--data", "hello", "--type", "greet")
			if r.code != 0 {
				t.Fatalf("send: exit %d: %s", r.code, r.stderr)
			}
			if l := s.nextLine(t); !strings.Contains(l, "type=greet") || !strings.Contains(l, "5 B") || !strings.HasSuffix(l, "hello") {
				t.Fatalf("server printed %q", l)
			}
			// An echo server answers --expect-reply.
			e := startServe(t, strings.Replace(tc.addr, "s.sock", "e.sock", 1), "--echo")
			r = runGoipc(t, 20*time.Second, "", "send", e.addr, "--data", `{"n":1}`, "--expect-reply", "--timeout", "10s")
			if r.code != 0 || strings.TrimSpace(r.stdout) != `{"type":"message","data":{"n":1}}` {
				t.Fatalf("send --expect-reply: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
			// Length mode, hex in, echo out.
			l := startServe(t, strings.Replace(tc.addr, "s.sock", "l.sock", 1), "--echo", "--codec", "length", "--len-bytes", "2", "--little-endian")
			r = runGoipc(t, 20*time.Second, "", "send", l.addr, "--codec", "length", "--len-bytes", "2", "--little-endian", "--hex", "00 01 02", "--expect-reply")
			if r.code != 0 || !strings.Contains(r.stdout, "00000000  00 01 02") {
				t.Fatalf("length send: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestServeRemovesSocketOnSignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on windows")
	}
	path := filepath.Join(shortDir(t), "g.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goipcBin, "serve", "unix://"+path)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "listening on unix://"+path+"\n" {
		t.Fatalf("first line %q", line)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGINT: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("socket file still there after shutdown: %v", err)
	}
}

func TestConnectJSONLines(t *testing.T) {
	for _, codec := range []string{"json", "event"} {
		t.Run(codec, func(t *testing.T) {
			s := startServe(t, "tcp://127.0.0.1:0", "--echo", "--codec", codec)
			in := `{"type":"greet","data":{"a": 1}}` + "\n" + `{"type":"second","data":"two"}` + "\n"
			r := runGoipc(t, 20*time.Second, in, "connect", s.addr, "--codec", codec, "--count", "2")
			want := `{"type":"greet","data":{"a":1}}` + "\n" + `{"type":"second","data":"two"}` + "\n"
			if r.code != 0 || r.stdout != want {
				t.Fatalf("connect: exit %d\nstdout %q\nwant   %q\nstderr %q", r.code, r.stdout, want, r.stderr)
			}
		})
	}
}

func TestListen(t *testing.T) {
	s := startServe(t, "tcp://127.0.0.1:0", "--broadcast-stdin", "-v")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goipcBin, "listen", s.addr, "--count", "1", "--json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	// The server reports the connection on stderr: then broadcast.
	if !s.stderr.Scan() || !strings.Contains(s.stderr.Text(), "connected") {
		t.Fatalf("server stderr: %q", s.stderr.Text())
	}
	fmt.Fprintln(s.stdin, `{"type":"tick","data":{"n":42}}`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("listen: %v\nstderr: %s", err, errb.String())
	}
	var m struct {
		Time string          `json:"time"`
		Size int             `json:"size"`
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("listen output %q: %v", out.String(), err)
	}
	if m.Type != "tick" || string(m.Data) != `{"n":42}` || m.Size != 8 || m.Time == "" {
		t.Fatalf("listen printed %+v", m)
	}
}

func TestListenUDP(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, goipcBin, "listen", "udp://127.0.0.1:0", "--codec", "raw", "--count", "1")
	var out bytes.Buffer
	cmd.Stdout = &out
	errp, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	line, _ := bufio.NewReader(errp).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("listen stderr %q", line)
	}
	r := runGoipc(t, 20*time.Second, "", "send", addr, "--codec", "raw", "--data", "ping")
	if r.code != 0 {
		t.Fatalf("send: %d %s", r.code, r.stderr)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "4 B  ping") {
		t.Fatalf("listen printed %q", out.String())
	}
}

func TestBench(t *testing.T) {
	r := runGoipc(t, 60*time.Second, "", "bench", "--duration", "200ms", "--transports", "unix,tcp", "--sizes", "64", "--inflight", "1,8")
	if r.code != 0 {
		t.Fatalf("bench: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"transport", "msgs/s", "MB/s", "p50", "p99", "allocs/msg", "unix", "tcp"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("bench table lacks %q:\n%s", want, r.stdout)
		}
	}
	if lines := strings.Count(r.stdout, "\n"); lines != 2+1+4 {
		t.Fatalf("bench table has %d lines:\n%s", lines, r.stdout)
	}
	if !strings.Contains(r.stderr, "bench [4/4]") {
		t.Fatalf("no progress on stderr: %q", r.stderr)
	}

	// --busy-poll reaches both ends, the child server's through its flags.
	r = runGoipc(t, 60*time.Second, "", "bench", "--duration", "200ms", "--sizes", "64", "--inflight", "4", "--json", "--codec", "json", "--processes", "--busy-poll", "50us")
	if r.code != 0 {
		t.Fatalf("bench --json: exit %d: %s", r.code, r.stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bench --json output is not JSON: %v\n%s", err, r.stdout)
	}
	if len(rep.Results) != 1 || rep.Results[0].Messages == 0 || rep.Results[0].MsgsPerSec <= 0 || rep.Codec != "json" || rep.Server != "process" || rep.Results[0].AllocsPerMsg != nil {
		t.Fatalf("bench --json report: %+v", rep)
	}
}

func TestErrors(t *testing.T) {
	dir := shortDir(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no scheme", []string{"send", "nowhere", "--data", "x"}, 2, `bad address "nowhere"`},
		{"unknown scheme", []string{"send", "foo://x", "--data", "x"}, 2, `unknown scheme "foo"`},
		{"bad tcp address", []string{"serve", "tcp://127.0.0.1"}, 2, "bad address"},
		{"unreachable unix", []string{"send", "unix://" + filepath.Join(dir, "none.sock"), "--data", "x"}, 1, "no such file"},
		{"unreachable connect", []string{"connect", "unix://" + filepath.Join(dir, "none.sock")}, 1, "connect unix://"},
		{"echo with broadcast", []string{"serve", "tcp://127.0.0.1:0", "--echo", "--broadcast-stdin"}, 2, "--echo and --broadcast-stdin cannot be combined"},
		{"hex with data", []string{"send", "tcp://127.0.0.1:1", "--hex", "00", "--data", "x"}, 2, "cannot be combined"},
		{"bad flag", []string{"serve", "tcp://127.0.0.1:0", "--nope"}, 2, "flag provided but not defined: -nope"},
		{"bad codec", []string{"bench", "--codec", "xml"}, 2, `--codec "xml"`},
		{"bad len-bytes", []string{"serve", "tcp://127.0.0.1:0", "--codec", "length", "--len-bytes", "5"}, 2, "--len-bytes 5"},
		{"length flag on json", []string{"serve", "tcp://127.0.0.1:0", "--codec", "json", "--len-bytes", "2"}, 2, "--len-bytes applies to"},
		{"missing address", []string{"listen"}, 2, "missing ADDR"},
		{"unknown command", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runGoipc(t, 20*time.Second, "", tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", r.code, tc.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "goipc: ") || !strings.Contains(r.stderr, tc.msg) {
				t.Fatalf("stderr %q, want it to start with \"goipc: \" and contain %q", r.stderr, tc.msg)
			}
		})
	}
	// A connection refused on TCP (nothing listens on port 1 here).
	r := runGoipc(t, 20*time.Second, "", "send", "tcp://127.0.0.1:1", "--data", "x")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "goipc: ") {
		t.Fatalf("refused: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestVersion(t *testing.T) {
	r := runGoipc(t, 20*time.Second, "", "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "goipc ") || !strings.Contains(r.stdout, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Fatalf("version: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			r := runGoipc(t, 20*time.Second, "", c.name, "-h")
			if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "goipc "+c.name) {
				t.Fatalf("%s -h: exit %d\nstdout %s\nstderr %s", c.name, r.code, r.stdout, r.stderr)
			}
		})
	}
	r := runGoipc(t, 20*time.Second, "", "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:") {
		t.Fatalf("-h: exit %d, stdout %s", r.code, r.stdout)
	}
}
