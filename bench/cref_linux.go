//go:build linux

package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cImpl is the C reference (c/bench/bench.c): both ends are C processes,
// placed with taskset.
type cImpl struct {
	noWorkloads // Broadcast, Idle
	once        sync.Once
	bin         string
	err         error
}

func (c *cImpl) Name() string    { return ImplC }
func (c *cImpl) InProcess() bool { return false }

// Available builds the C reference with gcc -O2 into the cache directory
// (once per source version).
func (c *cImpl) Available(ctx context.Context, env *Env) error {
	c.once.Do(func() { c.bin, c.err = buildC(ctx, env) })
	return c.err
}

func buildC(ctx context.Context, env *Env) (string, error) {
	if env.Repo == "" {
		return "", errors.New("not available: c/bench/bench.c not found (run from the goipc repository)")
	}
	src := filepath.Join(env.Repo, "c", "bench", "bench.c")
	hdr := filepath.Join(env.Repo, "c", "goipc.h")
	h := sha256.New()
	for _, f := range []string{src, hdr} {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("not available: %v", err)
		}
		h.Write(b)
	}
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return "", errors.New("not available: gcc not found")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", errors.New("not available: taskset not found")
	}
	bin := filepath.Join(env.CacheDir, "c-bench-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	return bin, buildInto(bin, "gcc", func(tmp string) *exec.Cmd {
		return exec.CommandContext(ctx, gcc, "-std=c99", "-O2", "-Wall", "-Wextra", "-o", tmp, src)
	})
}

// buildInto runs the build command cmd(tmp) to produce a temporary file
// beside bin, then renames it to bin, so that concurrent runs never execute
// a half-written binary. what names the tool in errors.
func buildInto(bin, what string, cmd func(tmp string) *exec.Cmd) error {
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	tmp := bin + ".tmp" + strconv.Itoa(os.Getpid())
	if out, err := cmd(tmp).CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s failed: %v: %s", what, err, strings.TrimSpace(string(out)))
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func secsArg(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// cAddr is the address a C server listens on.
func cAddr(env *Env, transport string) string {
	if transport == "unix" {
		return "unix://" + filepath.Join(env.Dir, "c"+strconv.FormatInt(addrSeq.Add(1), 10)+".sock")
	}
	return "tcp://127.0.0.1:0"
}

func (c *cImpl) Stream(ctx context.Context, env *Env, w Workload) (Measure, error) {
	sink, err := startChild(env.ServerCPU, c.bin, "stream-sink", cAddr(env, w.Transport))
	if err != nil {
		return Measure{}, err
	}
	defer sink.kill()
	addr, err := sink.listening(ctx, "listening ")
	if err != nil {
		return Measure{}, err
	}
	send, err := startChild(env.ClientCPU, c.bin, "stream-send", addr, strconv.Itoa(w.Size), secsArg(env.Duration))
	if err != nil {
		return Measure{}, err
	}
	if err := send.wait(ctx, env.Duration+30*time.Second); err != nil {
		return Measure{}, err
	}
	res, err := sink.line(ctx, "frames ", 30*time.Second)
	if err != nil {
		return Measure{}, err
	}
	f := fields(res)
	return Measure{Msgs: int64(f["frames"]), Elapsed: time.Duration(f["secs"] * 1e9), Allocs: -1,
		Note: "first to last frame at the receiver"}, nil
}

func (c *cImpl) RoundTrips(ctx context.Context, env *Env, w Workload) (Measure, error) {
	srv, err := startChild(env.ServerCPU, c.bin, "echo", cAddr(env, w.Transport))
	if err != nil {
		return Measure{}, err
	}
	defer srv.kill()
	addr, err := srv.listening(ctx, "listening ")
	if err != nil {
		return Measure{}, err
	}
	// The C client has no warm-up phase: it runs warm-up + duration and the
	// whole run counts (the first round trips cost little against the rest).
	cl, err := startChild(env.ClientCPU, c.bin, "rtt", addr, strconv.Itoa(w.Size), strconv.Itoa(w.Window), secsArg(env.Duration))
	if err != nil {
		return Measure{}, err
	}
	res, err := cl.line(ctx, "n ", env.Duration+30*time.Second)
	if err != nil {
		cl.kill()
		return Measure{}, err
	}
	cl.wait(ctx, 10*time.Second)
	f := fields(res)
	return Measure{Msgs: int64(f["n"]), Elapsed: time.Duration(f["secs"] * 1e9), P50: f["p50"], P99: f["p99"], P999: f["p999"], Allocs: -1}, nil
}

func (c *cImpl) UDP(ctx context.Context, env *Env, w Workload) (Measure, error) {
	sink, err := startChild(env.ServerCPU, c.bin, "udp-sink", "udp://127.0.0.1:0", secsArg(env.Duration))
	if err != nil {
		return Measure{}, err
	}
	defer sink.kill()
	addr, err := sink.listening(ctx, "listening ")
	if err != nil {
		return Measure{}, err
	}
	send, err := startChild(env.ClientCPU, c.bin, "udp-send", addr, strconv.Itoa(w.Size), secsArg(env.Duration+env.Warmup+300*time.Millisecond))
	if err != nil {
		return Measure{}, err
	}
	defer send.kill()
	res, err := sink.line(ctx, "frames ", env.Duration+30*time.Second)
	if err != nil {
		return Measure{}, err
	}
	f := fields(res)
	return Measure{Msgs: int64(f["frames"]), Elapsed: time.Duration(f["secs"] * 1e9), Allocs: -1,
		Note: "received datagrams, sendmmsg/recvmmsg ×64"}, nil
}
