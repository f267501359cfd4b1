package goipc

import (
	"path/filepath"
	"testing"
	"time"
)

// A connection remembers the handler it found last, so a stream of one
// event does not hash its name per message. Re-registering, removing and
// alternating handlers mid-stream must still reach the handler registered
// when each message arrives.
func TestHandlerChangesReachStream(t *testing.T) {
	for ename, engine := range map[string]Engine{"loop": EngineLoop, "goroutine": EngineGoroutine} {
		for name, codec := range map[string]Codec{"event": EventCodec(), "json": JSONCodec()} {
			t.Run(ename+"/"+name, func(t *testing.T) {
				addr := "unix://" + filepath.Join(shortTempDir(t), "s.sock")
				srv, err := Listen(addr, WithCodec(codec), WithEngine(engine))
				if err != nil {
					t.Fatal(err)
				}
				got := make(chan string, 16)
				tag := func(s string) HandlerFunc {
					return func(_ *Conn, m Message) { got <- s + ":" + m.Event }
				}
				srv.Handle("a", tag("first"))
				srv.Handle("b", tag("first"))
				srv.HandleAny(tag("any"))
				startServer(t, srv)
				cl, _ := dialRecv(t, srv.Addr(), codec)
				step := func(event, want string) {
					t.Helper()
					if err := cl.Emit(event, []byte(`1`)); err != nil {
						t.Fatal(err)
					}
					select {
					case g := <-got:
						if g != want {
							t.Fatalf("emit %q reached %q, want %q", event, g, want)
						}
					case <-time.After(5 * time.Second):
						t.Fatalf("emit %q reached no handler", event)
					}
				}
				step("a", "first:a")
				step("a", "first:a")
				step("b", "first:b")
				step("a", "first:a")
				srv.Handle("a", tag("second"))
				step("a", "second:a")
				step("a", "second:a")
				srv.Handle("a", nil)
				step("a", "any:a")
				step("b", "first:b")
				step("c", "any:c")
				srv.Handle("c", tag("third"))
				step("c", "third:c")
			})
		}
	}
}
