package goipc

import (
	"context"
	"testing"
	"time"
)

func TestSmoke(t *testing.T) {
	for _, codec := range []Codec{EventCodec(), JSONCodec()} {
		srv, err := Listen("unix://"+t.TempDir()+"/s.sock", WithCodec(codec))
		if err != nil {
			t.Fatal(err)
		}
		srv.Handle("hello", func(c *Conn, m Message) {
			c.Emit("hello", m.Data)
		})
		srv.Handle("sum", func(c *Conn, m Message) { m.Reply([]byte(`3`)) })
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- srv.Serve(ctx) }()
		cl, err := Dial(ctx, srv.Addr(), WithCodec(codec))
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		cl.Handle("hello", func(m Message) { got <- string(m.Data) })
		if err := cl.Emit("hello", []byte(`"world"`)); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != `"world"` {
				t.Fatal(s)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("timeout")
		}
		r, err := cl.Request(ctx, "sum", []byte(`[1,2]`))
		if err != nil || string(r) != "3" {
			t.Fatalf("request: %q %v", r, err)
		}
		_, err = cl.Request(ctx, "nope", nil)
		t.Log(codec.Mode(), "no handler:", err)
		cl.Close()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
