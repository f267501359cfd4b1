//go:build unix

package ctest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// strict is the warning set goipc.h must compile cleanly under.
var strict = []string{"-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"}

// sanitize instruments a build with AddressSanitizer and UBSan, failing on
// the first report.
var sanitize = []string{"-g", "-O1", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"}

var (
	binDir   string
	buildMu  sync.Mutex
	builds   = map[string]buildResult{}
	repoRoot string
)

type buildResult struct {
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goipc-ctest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	wd, _ := os.Getwd()
	repoRoot = filepath.Dir(wd)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// compiler returns the path of cc, skipping the test when it is missing;
// with CI=true a missing gcc fails the test instead (clang is optional).
func compiler(t testing.TB, cc string) string {
	t.Helper()
	p, err := exec.LookPath(cc)
	if err != nil {
		if cc == "gcc" && os.Getenv("CI") == "true" {
			t.Fatalf("gcc not found and CI=true: the C side of goipc must be tested in CI")
		}
		t.Skipf("%s not found: skipping the C tests that need it", cc)
	}
	return p
}

// compilers returns gcc and, when installed, clang.
func compilers(t testing.TB) []string {
	compiler(t, "gcc")
	ccs := []string{"gcc"}
	if _, err := exec.LookPath("clang"); err == nil {
		ccs = append(ccs, "clang")
	} else {
		t.Log("clang not installed: testing with gcc only")
	}
	return ccs
}

// cpath returns a path under the repository's c/ directory.
func cpath(rel string) string { return filepath.Join(repoRoot, "c", filepath.FromSlash(rel)) }

// build compiles src (relative to c/) with cc and flags once per test
// binary run, and returns the executable.
func build(t testing.TB, cc, src string, flags ...string) string {
	t.Helper()
	compiler(t, cc)
	key := cc + " " + src + " " + strings.Join(flags, " ")
	buildMu.Lock()
	defer buildMu.Unlock()
	if r, ok := builds[key]; ok {
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.path
	}
	out := filepath.Join(binDir, fmt.Sprintf("bin%d", len(builds)))
	args := append(append(append([]string{}, strict...), flags...), "-I", cpath(""), "-o", out, cpath(src))
	cmd := exec.Command(cc, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var err error
	if e := cmd.Run(); e != nil {
		err = fmt.Errorf("%s %s: %v\n%s", cc, strings.Join(args, " "), e, stderr.String())
	} else if stderr.Len() > 0 {
		err = fmt.Errorf("%s %s: diagnostics with -Werror:\n%s", cc, strings.Join(args, " "), stderr.String())
	}
	builds[key] = buildResult{out, err}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// peerBin is the interop peer: gcc with the sanitizers, so memory errors in
// goipc.h fail the interop tests too.
func peerBin(t testing.TB) string { return build(t, "gcc", "test/peer.c", sanitize...) }

// fastPeerBin is the optimised peer for benchmarks.
func fastPeerBin(t testing.TB) string { return build(t, "gcc", "test/peer.c", "-O2") }

// TestCVectors runs c/test/test_goipc.c, which checks every record of
// testdata/vectors/lengthfield.txt and envelope.txt, with each compiler,
// optimised and under ASan+UBSan.
func TestCVectors(t *testing.T) {
	for _, cc := range compilers(t) {
		for _, v := range []struct {
			name  string
			flags []string
		}{{"O2", []string{"-O2"}}, {"asan-ubsan", sanitize}} {
			t.Run(cc+"/"+v.name, func(t *testing.T) {
				bin := build(t, cc, "test/test_goipc.c", v.flags...)
				cmd := exec.Command(bin, filepath.Join(repoRoot, "testdata", "vectors"))
				out, err := cmd.CombinedOutput()
				t.Logf("%s", out)
				if err != nil || !bytes.Contains(out, []byte("\nPASS\n")) {
					t.Fatalf("C vector tests failed: %v", err)
				}
				for _, want := range []string{
					"lengthfield.txt: 436 records: 395 valid (2 decode-only, 0 encode-only), 19 need, 18 error, 4 encode_error",
					"envelope.txt: 56 records: 23 valid",
				} {
					if !bytes.Contains(out, []byte(want)) {
						t.Errorf("output lacks %q", want)
					}
				}
			})
		}
	}
}

// TestCCompile checks that every C source compiles warning-free under
// -std=c99 -Wall -Wextra -Werror -pedantic with each compiler, and that the
// core of goipc.h (without GOIPC_POSIX) builds freestanding, with no libc.
func TestCCompile(t *testing.T) {
	for _, cc := range compilers(t) {
		t.Run(cc, func(t *testing.T) {
			build(t, cc, "test/peer.c", "-O2")
			build(t, cc, "examples/sensor.c", "-O2")
			build(t, cc, "examples/sensor.c", sanitize...)
			build(t, cc, "test/peer.c", sanitize...)
			obj := filepath.Join(binDir, "embedded-"+cc+".o")
			args := append(append([]string{}, strict...), "-ffreestanding", "-fno-builtin", "-Os", "-c", "-I", cpath(""), "-o", obj, cpath("test/embedded.c"))
			if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil || len(out) > 0 {
				t.Fatalf("freestanding build: %v\n%s", err, out)
			}
			// The core must not call into libc (mem* may be emitted by
			// the compiler itself; nothing else).
			if runtime.GOOS == "linux" {
				if nm, err := exec.LookPath("nm"); err == nil {
					out, err := exec.Command(nm, "-u", obj).CombinedOutput()
					if err != nil {
						t.Fatalf("nm: %v\n%s", err, out)
					}
					for _, sym := range strings.Fields(string(out)) {
						if sym == "U" || strings.HasPrefix(sym, "mem") {
							continue
						}
						t.Errorf("freestanding core references %s", sym)
					}
				}
			}
		})
	}
}
