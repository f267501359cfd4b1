//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// procsImpl measures round trips with goipc across two processes, as the
// C and node-ipc lanes do: the server is this repository's CLI,
// `goipc serve ADDR --echo --codec length` (a 4-byte big-endian length
// field, like goipc/length), in a child process under taskset on
// env.ServerCPU; the client is goipc/length's client code in the harness
// process, which run pins to env.ClientCPU (see harnessClient).
//
// In one Go runtime the scheduler hands messages between the two ends'
// goroutines cheaply; goipc is an inter-process library, and here the
// server pays the real cross-process wake-ups the C and node lanes pay.
//
// With client.busy set (the goipc/procs-busy lane), both ends busy-poll
// for that long: the server with --busy-poll, the client with
// goipc.WithBusyPoll.
type procsImpl struct {
	noWorkloads           // Stream, UDP, Broadcast, Idle
	client      goipcImpl // codec "length"

	once sync.Once
	bin  string
	err  error
}

func newProcsImpl() *procsImpl { return &procsImpl{client: goipcImpl{codec: "length"}} }

// newProcsBusyImpl returns the goipc/procs-busy lane.
func newProcsBusyImpl() *procsImpl {
	return &procsImpl{client: goipcImpl{codec: "length", busy: BusyPoll}}
}

func (p *procsImpl) Name() string {
	if p.client.busy > 0 {
		return ImplGoipcProcsBusy
	}
	return ImplGoipcProcs
}

// InProcess is false: the server is a child process, so the cross-core
// placement runs.
func (p *procsImpl) InProcess() bool { return false }

// harnessClient: the client runs in the harness process (pinned to
// env.ClientCPU, allocations counted).
func (p *procsImpl) harnessClient() bool { return true }

// Available builds the goipc CLI from env.Repo into the cache directory,
// once per run.
func (p *procsImpl) Available(ctx context.Context, env *Env) error {
	p.once.Do(func() { p.bin, p.err = buildGoipc(ctx, env) })
	return p.err
}

// buildGoipc runs `go build -o CACHE/goipc ./cmd/goipc` in env.Repo.
func buildGoipc(ctx context.Context, env *Env) (string, error) {
	if env.Repo == "" {
		return "", errors.New("not available: cmd/goipc not found (run from the goipc repository)")
	}
	if _, err := os.Stat(filepath.Join(env.Repo, "cmd", "goipc")); err != nil {
		return "", fmt.Errorf("not available: %v", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, serr := os.Stat(goTool); serr != nil {
			return "", errors.New("not available: the go command was not found")
		}
	}
	bin := filepath.Join(env.CacheDir, "goipc")
	bctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	err = buildInto(bin, "go build ./cmd/goipc", func(tmp string) *exec.Cmd {
		cmd := exec.CommandContext(bctx, goTool, "build", "-o", tmp, "./cmd/goipc")
		cmd.Dir = env.Repo
		return cmd
	})
	return bin, err
}

func (p *procsImpl) RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error) {
	if env.ServerCPU >= 0 {
		if _, err := exec.LookPath("taskset"); err != nil {
			return Measure{}, errors.New("taskset not found (needed to place the server process)")
		}
	}
	args := []string{"serve", listenAddr(env, w.Transport), "--echo", "--codec", "length", "--len-bytes", "4"}
	if p.client.busy > 0 {
		args = append(args, "--busy-poll", p.client.busy.String())
	}
	srv, err := startChild(env.ServerCPU, p.bin, args...)
	if err != nil {
		return Measure{}, err
	}
	defer srv.stop(5 * time.Second)
	addr, err := srv.listening(ctx, "listening on ")
	if err != nil {
		return Measure{}, err
	}
	m, err := p.client.clientRoundTrips(ctx, env, w, addr)
	select {
	case <-srv.done:
		if err == nil {
			err = fmt.Errorf("the server process exited during the run: %s: %s", srv.cmd.ProcessState, srv.stderr.String())
		}
	default:
	}
	m.Note = "server in a child process; allocs/msg: client only"
	if p.client.busy > 0 {
		m.Note = "both ends busy-poll " + p.client.busy.String() + "; " + m.Note
	}
	return m, err
}
