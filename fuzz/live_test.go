package fuzz

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	goipc "github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/frame"
)

// Limits of the live servers: small, so that short inputs reach them.
const (
	liveMaxFrame       = 64 << 10
	liveMaxPending     = 256 << 10
	livePartialTimeout = 200 * time.Millisecond
	// liveMaxInput caps the bytes written per input (below liveMaxPending,
	// so an echo of the whole input can never be refused for backpressure).
	liveMaxInput = 128 << 10
	// liveDeadline bounds every wait: a server that takes longer than this
	// to answer or to close is reported as stuck.
	liveDeadline = 3 * time.Second
	// A leak check runs every liveCheckEvery inputs or liveCheckPeriod,
	// whichever comes first.
	liveCheckEvery  = 256
	liveCheckPeriod = 2 * time.Second
	// Slack over the baselines for goroutines and file descriptors that
	// come and go (runtime, gnet, timers).
	liveGoroutineSlack = 16
	liveFDSlack        = 8
	// At most this many connections per input pause between chunks.
	liveMaxPauses = 4
)

// liveJSONOptions is the JSON server's validation: the guarded profile's
// reserved lifecycle names on top of the defaults.
var liveJSONOptions = frame.JSONOptions{Reserved: frame.ReservedLifecycle}

// liveCodec returns the server codec of a mode.
func liveCodec(mode goipc.Mode) goipc.Codec {
	switch mode {
	case goipc.ModeEvent:
		return goipc.EventCodec().WithMaxFrame(liveMaxFrame)
	case goipc.ModeJSON:
		return goipc.JSONCodec().WithMaxFrame(liveMaxFrame).WithJSONOptions(liveJSONOptions)
	case goipc.ModeLength:
		return goipc.LengthCodec(frame.LengthFieldConfig{MaxFrame: liveMaxFrame})
	}
	return goipc.RawCodec().WithMaxFrame(liveMaxFrame)
}

// liveFraming returns the frame codec the server's codec uses, for the
// model; nil for raw mode.
func liveFraming(mode goipc.Mode) frame.Codec {
	switch mode {
	case goipc.ModeEvent, goipc.ModeLength:
		return frame.MustLengthField(frame.LengthFieldConfig{MaxFrame: liveMaxFrame})
	case goipc.ModeJSON:
		return frame.MustDelimiter(frame.DelimiterConfig{MaxFrame: liveMaxFrame})
	}
	return nil
}

// liveModel is what a correct echo server does with one connection's
// input: the frames it must echo, in order, and how the input ends.
type liveModel struct {
	echoes   [][]byte // whole echo frames, on the wire
	total    int      // their total length
	complete bool     // every byte of the input is in a valid frame
	partial  bool     // no error, but the input ends inside a frame
	// unknown: the input opened an exactly-once session (a hello control
	// message); what the server sends from then on (a welcome, echoes of
	// sequenced messages it has not seen in that session, which persists
	// across inputs) depends on earlier inputs, so only the framing of the
	// output is checked.
	unknown bool
}

// model computes the echo server's expected output for data, using only
// the frame package: the framing codec's Parse (what frame.Decoder does on
// a stream), ParseEvent and a Decompressor with the max frame as its limit
// in event mode, JSONParser with the server's options in JSON mode.
func model(mode goipc.Mode, data []byte) liveModel {
	var m liveModel
	if mode == goipc.ModeRaw {
		if len(data) > 0 {
			m.echoes = [][]byte{data}
		}
		m.total, m.complete = len(data), true
		return m
	}
	fc := liveFraming(mode)
	dec := frame.NewDecompressor(liveMaxFrame)
	defer dec.Close()
	jp := frame.JSONParser{Options: liveJSONOptions}
	add := func(fill func(out []byte) ([]byte, error)) {
		out, mark := fc.Begin(nil)
		out, err := fill(out)
		if err != nil {
			return // the server's Emit refuses it too: nothing on the wire
		}
		if out, err = fc.End(out, mark); err != nil {
			return
		}
		m.echoes = append(m.echoes, out)
		m.total += len(out)
	}
	rest := data
	for {
		p, n, err := fc.Parse(rest)
		if err != nil {
			return m // the server closes the connection
		}
		if n == 0 {
			m.complete = len(rest) == 0
			m.partial = len(rest) > 0
			return m
		}
		rest = rest[n:]
		switch mode {
		case goipc.ModeLength:
			add(func(out []byte) ([]byte, error) { return append(out, p...), nil })
		case goipc.ModeEvent:
			ev, err := frame.ParseEvent(p)
			if err != nil {
				return m
			}
			if ev.Flags&frame.FlagControl != 0 {
				if string(ev.Name) == "hello" && len(ev.Data) == 16 {
					m.unknown, m.complete = true, false
					return m
				}
				continue // other control operations are ignored
			}
			body := ev.Data
			if ev.Flags.Compression() != frame.None {
				if body, err = dec.Data(ev); err != nil {
					return m
				}
			}
			if ev.Flags&frame.FlagReply != 0 {
				continue // a reply nobody waits for is dropped
			}
			name := string(ev.Name)
			if ev.Flags&frame.FlagRequest != 0 && ev.ID != 0 {
				add(func(out []byte) ([]byte, error) {
					return frame.AppendEvent(out, name, frame.FlagReply, ev.ID, body)
				})
			} else {
				add(func(out []byte) ([]byte, error) { return frame.AppendEvent(out, name, 0, 0, body) })
			}
		case goipc.ModeJSON:
			ev, err := jp.Parse(p)
			if err != nil {
				return m
			}
			if ev.ReplyTo != 0 {
				continue
			}
			if len(ev.Data) > 0 && !frame.ValidJSON(ev.Data) {
				continue // Emit refuses it (cannot happen: Parse validated it)
			}
			typ := string(ev.Type)
			if ev.ID != 0 {
				add(func(out []byte) ([]byte, error) { return frame.AppendJSONReply(out, typ, ev.ID, ev.Data, ""), nil })
			} else {
				add(func(out []byte) ([]byte, error) { return frame.AppendJSONEvent(out, typ, ev.Data), nil })
			}
		}
	}
}

// liveServer is one codec's echo server with its canary client.
type liveServer struct {
	mode   goipc.Mode
	dir    string
	path   string
	srv    *goipc.Server
	served chan error

	canary   *goipc.Client
	canaryMu sync.Mutex
	canaryIn []byte        // data-mode echoes received
	canaryCh chan struct{} // signalled on each canary chunk
	seq      int

	inputs    int
	lastCheck time.Time
	baseG     int
	baseFD    int
	lingering []*liveConn
}

// startLive starts the echo server and its canary for mode. It runs once
// per fuzz process (the body of a Fuzz function runs once per worker) and
// is closed by tb's cleanup.
func startLive(tb testing.TB, mode goipc.Mode) *liveServer {
	tb.Helper()
	dir, err := os.MkdirTemp("", "gofz")
	if err != nil {
		tb.Fatal(err)
	}
	ls := &liveServer{mode: mode, dir: dir, path: filepath.Join(dir, "s.sock"), canaryCh: make(chan struct{}, 1)}
	codec := liveCodec(mode)
	ls.srv, err = goipc.Listen("unix://"+ls.path,
		goipc.WithCodec(codec),
		goipc.WithLoops(1), // the canary shares the fuzz connections' loop
		goipc.WithMaxPending(liveMaxPending, goipc.Refuse, 0),
		goipc.WithPartialTimeout(livePartialTimeout),
		goipc.WithCloseTimeout(time.Second),
	)
	if err != nil {
		os.RemoveAll(dir)
		tb.Fatal(err)
	}
	ls.srv.HandleAny(func(c *goipc.Conn, m goipc.Message) {
		if m.IsRequest() {
			_ = m.Reply(m.Data)
		} else {
			_ = c.Emit(m.Event, m.Data)
		}
	})
	ls.srv.OnData(func(c *goipc.Conn, b []byte) { _ = c.Send(b) })
	ls.served = make(chan error, 1)
	go func() { ls.served <- ls.srv.Serve(context.Background()) }()

	ls.canary, err = goipc.NewClient("unix://"+ls.path, goipc.WithCodec(codec), goipc.WithDialTimeout(liveDeadline))
	if err != nil {
		tb.Fatal(err)
	}
	ls.canary.OnData(func(b []byte) {
		ls.canaryMu.Lock()
		ls.canaryIn = append(ls.canaryIn, b...)
		ls.canaryMu.Unlock()
		select {
		case ls.canaryCh <- struct{}{}:
		default:
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), liveDeadline)
	defer cancel()
	if err := ls.canary.Connect(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ls.close)
	if err := ls.roundTrip(); err != nil {
		tb.Fatal(err)
	}
	ls.baseline()
	return ls
}

func (ls *liveServer) close() {
	for _, lc := range ls.lingering {
		lc.nc.Close()
	}
	ls.lingering = nil
	ls.canary.Close()
	ls.srv.Close()
	<-ls.served
	os.RemoveAll(ls.dir)
}

// baseline records the goroutine and descriptor counts with only the
// canary connected.
func (ls *liveServer) baseline() {
	ls.baseG = runtime.NumGoroutine()
	ls.baseFD = openFDs()
	ls.lastCheck = time.Now()
}

// openFDs counts this process's open file descriptors (-1 where /proc is
// missing).
func openFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// roundTrip checks that the canary still gets an echo within liveDeadline.
func (ls *liveServer) roundTrip() error {
	ls.seq++
	payload := fmt.Appendf(nil, `"canary %d"`, ls.seq)
	switch ls.mode {
	case goipc.ModeEvent, goipc.ModeJSON:
		ctx, cancel := context.WithTimeout(context.Background(), liveDeadline)
		defer cancel()
		got, err := ls.canary.Request(ctx, "canary", payload)
		if err != nil {
			return fmt.Errorf("canary request: %w", err)
		}
		if !bytes.Equal(got, payload) {
			return fmt.Errorf("canary request answered %q, want %q", got, payload)
		}
		return nil
	}
	ls.canaryMu.Lock()
	ls.canaryIn = ls.canaryIn[:0]
	ls.canaryMu.Unlock()
	if err := ls.canary.Send(payload); err != nil {
		return fmt.Errorf("canary send: %w", err)
	}
	timer := time.NewTimer(liveDeadline)
	defer timer.Stop()
	for {
		ls.canaryMu.Lock()
		got := bytes.Clone(ls.canaryIn)
		ls.canaryMu.Unlock()
		if len(got) >= len(payload) {
			if !bytes.Equal(got, payload) {
				return fmt.Errorf("canary echo %q, want %q", got, payload)
			}
			return nil
		}
		select {
		case <-ls.canaryCh:
		case <-timer.C:
			return fmt.Errorf("canary echo: %d of %d bytes after %v", len(got), len(payload), liveDeadline)
		}
	}
}

// liveConn is one raw connection of a fuzz input and everything the
// server sent back on it.
type liveConn struct {
	nc   *net.UnixConn
	mu   sync.Mutex
	out  []byte
	note chan struct{} // signalled on each read
	done chan struct{} // closed at EOF or a read error
	born time.Time
}

func dialLive(path string) (*liveConn, error) {
	c, err := net.DialTimeout("unix", path, liveDeadline)
	if err != nil {
		return nil, err
	}
	lc := &liveConn{nc: c.(*net.UnixConn), note: make(chan struct{}, 1), done: make(chan struct{}), born: time.Now()}
	go lc.read()
	return lc, nil
}

func (lc *liveConn) read() {
	defer close(lc.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := lc.nc.Read(buf)
		if n > 0 {
			lc.mu.Lock()
			lc.out = append(lc.out, buf[:n]...)
			lc.mu.Unlock()
			select {
			case lc.note <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (lc *liveConn) received() []byte {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return bytes.Clone(lc.out)
}

// waitFor waits until n bytes arrived, the server closed, or the deadline.
func (lc *liveConn) waitFor(n int, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		lc.mu.Lock()
		have := len(lc.out)
		lc.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-lc.note:
		case <-lc.done:
			return
		case <-timer.C:
			return
		}
	}
}

func (lc *liveConn) closed(d time.Duration) bool {
	select {
	case <-lc.done:
		return true
	case <-time.After(d):
		return false
	}
}

// write sends data in chunks: each byte of cuts gives the next chunk's
// size (1 to 128 bytes, cycling through cuts; no cuts: one write); a set
// high bit also pauses briefly after the chunk, so that the server reads
// the stream in pieces. Write errors (the server closed on a protocol
// error) end the writing.
func (lc *liveConn) write(data, cuts []byte) {
	pauses := 0
	for i := 0; len(data) > 0; i++ {
		k, pause := len(data), false
		if len(cuts) > 0 {
			c := cuts[i%len(cuts)]
			k, pause = 1+int(c&0x7f), c&0x80 != 0
			if i >= len(cuts) {
				// Past the cuts, write the rest in one go: a long input with
				// few cuts must not cost a syscall per byte.
				k, pause = len(data), false
			}
		}
		k = min(k, len(data))
		lc.nc.SetWriteDeadline(time.Now().Add(liveDeadline))
		if _, err := lc.nc.Write(data[:k]); err != nil {
			return
		}
		data = data[k:]
		if pause && pauses < liveMaxPauses {
			pauses++
			time.Sleep(20 * time.Microsecond)
		}
	}
}

// run feeds one input to the server and checks the invariants.
func (ls *liveServer) run(t *testing.T, data, cuts []byte, linger bool) {
	if len(data) > liveMaxInput {
		data = data[:liveMaxInput]
	}
	m := model(ls.mode, data)
	lc, err := dialLive(ls.path)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	lc.write(data, cuts)

	if linger && m.partial {
		// Leave the incomplete frame hanging: the partial-frame timeout
		// must close the connection (checked by check).
		ls.lingering = append(ls.lingering, lc)
	} else {
		if m.complete {
			// Everything was valid: the server must echo all of it
			// before we signal the end of input.
			lc.waitFor(m.total, liveDeadline)
		}
		lc.nc.CloseWrite()
		if !lc.closed(liveDeadline) {
			lc.nc.Close()
			t.Fatalf("server did not close the connection within %v of EOF (input %d bytes)", liveDeadline, len(data))
		}
		lc.nc.Close()
		ls.checkEchoes(t, m, lc.received())
	}

	if err := ls.roundTrip(); err != nil {
		t.Fatalf("after a %d-byte input, the canary is not served: %v", len(data), err)
	}
	ls.inputs++
	if ls.inputs%liveCheckEvery == 0 || time.Since(ls.lastCheck) > liveCheckPeriod {
		ls.check(t)
	}
}

// checkEchoes compares what the server sent with the model: the frames
// received are the model's echoes in order (a prefix of them: the server
// may cut a connection on a protocol error with echoes still queued), all
// of them when the input was valid throughout.
func (ls *liveServer) checkEchoes(t *testing.T, m liveModel, out []byte) {
	t.Helper()
	if ls.mode == goipc.ModeRaw {
		want := []byte(nil)
		if len(m.echoes) > 0 {
			want = m.echoes[0]
		}
		if !bytes.Equal(out, want) {
			t.Fatalf("raw echo: got %d bytes, want the %d input bytes back (first difference at %d)", len(out), len(want), firstDiff(out, want))
		}
		return
	}
	fc := liveFraming(ls.mode)
	i := 0
	for rest := out; len(rest) > 0; i++ {
		_, n, err := fc.Parse(rest)
		if err != nil {
			t.Fatalf("echo %d: server sent an invalid frame: %v", i, err)
		}
		if m.unknown {
			if n == 0 {
				break
			}
			rest = rest[n:]
			continue
		}
		if n == 0 {
			if m.complete {
				t.Fatalf("echo %d: server sent a truncated frame (%d bytes) for a valid input", i, len(rest))
			}
			break
		}
		if i >= len(m.echoes) {
			t.Fatalf("echo %d: %q, but the model expects only %d echoes", i, rest[:n], len(m.echoes))
		}
		if !bytes.Equal(rest[:n], m.echoes[i]) {
			t.Fatalf("echo %d: got %q, want %q", i, rest[:n], m.echoes[i])
		}
		rest = rest[n:]
	}
	if m.complete && i != len(m.echoes) {
		t.Fatalf("valid input: server echoed %d of %d frames (%d of %d bytes)", i, len(m.echoes), len(out), m.total)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// check is the periodic leak check: lingering connections were closed by
// the partial-frame timeout, the server's connection count drops back to
// the canary alone, and goroutines and descriptors are back near the
// baseline.
func (ls *liveServer) check(t *testing.T) {
	t.Helper()
	for _, lc := range ls.lingering {
		// The timeout is 200 ms, checked every 50 ms.
		wait := time.Until(lc.born.Add(livePartialTimeout + liveDeadline))
		if !lc.closed(max(wait, 0)) {
			t.Fatalf("a connection stalled inside a frame is still open after %v (partial-frame timeout %v)", time.Since(lc.born), livePartialTimeout)
		}
		lc.nc.Close()
	}
	ls.lingering = ls.lingering[:0]
	deadline := time.Now().Add(liveDeadline)
	for len(ls.srv.Conns()) > 1 {
		if time.Now().After(deadline) {
			t.Fatalf("server holds %d connections %v after the fuzz connections closed; want 1 (the canary)", len(ls.srv.Conns()), liveDeadline)
		}
		time.Sleep(time.Millisecond)
	}
	if n := len(ls.srv.Conns()); n != 1 {
		t.Fatalf("server holds %d connections; want 1 (the canary)", n)
	}
	// Goroutines of closed connections may take a moment to exit.
	for {
		g, fd := runtime.NumGoroutine(), openFDs()
		if g <= ls.baseG+liveGoroutineSlack && fd <= ls.baseFD+liveFDSlack {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("leak after %d inputs: %d goroutines (baseline %d), %d fds (baseline %d)\n%s", ls.inputs, g, ls.baseG, fd, ls.baseFD, buf)
		}
		time.Sleep(time.Millisecond)
	}
	ls.lastCheck = time.Now()
}

// fuzzLive is the body of the FuzzLiveServer targets.
func fuzzLive(f *testing.F, mode goipc.Mode, seeds []liveSeed) {
	for _, s := range seeds {
		f.Add(s.data, s.cuts, s.linger)
	}
	ls := startLive(f, mode)
	f.Fuzz(func(t *testing.T, data, cuts []byte, linger bool) {
		ls.run(t, data, cuts, linger)
	})
}

// The live-server targets: one echo server per codec, raw connections
// writing random streams to it, a canary client that must stay served.

func FuzzLiveServerEvent(f *testing.F)  { fuzzLive(f, goipc.ModeEvent, liveSeeds(goipc.ModeEvent)) }
func FuzzLiveServerLength(f *testing.F) { fuzzLive(f, goipc.ModeLength, liveSeeds(goipc.ModeLength)) }
func FuzzLiveServerJSON(f *testing.F)   { fuzzLive(f, goipc.ModeJSON, liveSeeds(goipc.ModeJSON)) }
func FuzzLiveServerRaw(f *testing.F)    { fuzzLive(f, goipc.ModeRaw, liveSeeds(goipc.ModeRaw)) }

// TestLiveServerSeedsEndClean runs every live target's seeds through one
// server and then the leak check, so that `go test` checks leaks even
// though the seed corpus is shorter than the check period.
func TestLiveServerSeedsEndClean(t *testing.T) {
	for _, mode := range []goipc.Mode{goipc.ModeEvent, goipc.ModeLength, goipc.ModeJSON, goipc.ModeRaw} {
		t.Run(mode.String(), func(t *testing.T) {
			ls := startLive(t, mode)
			for _, s := range liveSeeds(mode) {
				ls.run(t, s.data, s.cuts, s.linger)
			}
			ls.check(t)
		})
	}
}
