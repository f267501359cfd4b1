package goipc_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/seed-fc4a2f4b/goipc"
)

func Example() {
	dir, _ := os.MkdirTemp("", "goipc-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	srv, err := goipc.Listen("unix://" + dir + "/world.sock")
	if err != nil {
		panic(err)
	}
	srv.Handle("message", func(c *goipc.Conn, m goipc.Message) {
		c.Emit("message", append([]byte("echo: "), m.Data...))
	})
	go srv.Serve(ctx)

	cl, err := goipc.Dial(ctx, srv.Addr())
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	got := make(chan string, 1)
	cl.Handle("message", func(m goipc.Message) { got <- string(m.Data) })
	cl.Emit("message", []byte("hello"))
	select {
	case s := <-got:
		fmt.Println(s)
	case <-time.After(5 * time.Second):
		fmt.Println("timed out")
	}
	// Output: echo: hello
}

func ExampleClient_Request() {
	dir, _ := os.MkdirTemp("", "goipc-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	srv, _ := goipc.Listen("unix://"+dir+"/calc.sock", goipc.WithCodec(goipc.JSONCodec()))
	srv.Handle("sum", func(c *goipc.Conn, m goipc.Message) {
		var xs []int
		if err := m.Decode(&xs); err != nil {
			m.ReplyError(err)
			return
		}
		s := 0
		for _, x := range xs {
			s += x
		}
		m.Reply(fmt.Appendf(nil, "%d", s))
	})
	go srv.Serve(ctx)

	cl, _ := goipc.Dial(ctx, srv.Addr(), goipc.WithCodec(goipc.JSONCodec()))
	defer cl.Close()
	reply, err := cl.Request(ctx, "sum", []byte(`[1,2,3]`))
	fmt.Println(string(reply), err)
	_, err = cl.Request(ctx, "product", []byte(`[1,2,3]`))
	fmt.Println(err)
	// Output:
	// 6 <nil>
	// goipc: remote error for product: no handler for event
}

func ExampleBatch() {
	dir, _ := os.MkdirTemp("", "goipc-example")
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	srv, _ := goipc.Listen("unix://" + dir + "/sensor.sock")
	got := make(chan string, 3)
	srv.Handle("sample", func(c *goipc.Conn, m goipc.Message) { got <- string(m.Data) })
	go srv.Serve(ctx)

	cl, _ := goipc.Dial(ctx, srv.Addr())
	defer cl.Close()
	b := cl.NewBatch()
	for _, s := range []string{"21.5", "21.7", "21.6"} {
		b.Emit("sample", []byte(s)) // buffered: nothing is sent yet
	}
	b.Flush() // the three frames go to the connection together
	for range 3 {
		select {
		case s := <-got:
			fmt.Println(s)
		case <-ctx.Done():
			fmt.Println("timed out")
			return
		}
	}
	// Output:
	// 21.5
	// 21.7
	// 21.6
}
