package unix_test

import (
	"fmt"

	"github.com/seed-fc4a2f4b/goipc/unix"
)

// The node-ipc path rule: socketRoot + appspace + id. Root "/tmp/" with the
// default appspace reproduces node-ipc's (9.x-12.x) defaults.
func ExampleNamespace_Path() {
	ns := unix.Namespace{Root: "/tmp/"}
	p, err := ns.Path("world")
	if err != nil {
		panic(err)
	}
	fmt.Println(p)

	pipe, _ := ns.PipeName("world")
	fmt.Println(pipe)

	_, err = ns.Path("a/b")
	fmt.Println(err)
	// Output:
	// /tmp/app.world
	// \\.\pipe\tmp-app.world
	// unix: bad socket id: "a/b" contains '/'
}
