// Package unix provides Unix domain socket addressing, safe binding and peer
// credentials for goipc.
//
// It covers four things the standard net package leaves to the caller:
//
//   - the node-ipc path rule (socketRoot + appspace + id), see [Namespace];
//   - an owner-only socket root directory, see [EnsureRoot];
//   - safe binding and unlinking: a stale socket left by a crashed server is
//     reclaimed, a live one is reported as [ErrAddrInUse], anything that is
//     not a socket is never removed ([ErrNotSocket]), and a listener only
//     removes the socket file it created itself, see [Listen] and
//     [Listener.Close];
//   - peer credentials (SO_PEERCRED on Linux, LOCAL_PEERCRED on
//     darwin/FreeBSD), see [PeerCred] and [PeerCredConn].
//
// Linux abstract socket names are written with a leading '@' (as in the
// standard net package) and are rejected with [ErrAbstractUnsupported]
// elsewhere.
//
// # node-ipc compatibility
//
// node-ipc (github.com/RIAEvangelist/node-ipc) builds a local socket path by
// plain string concatenation. services/IPC.js (read at node-ipc 13.0.0, functions
// serve and connect):
//
//	// serve(path, callback): path is optional; the default uses config.id
//	path=this.config.socketRoot+this.config.appspace+this.config.id;
//	// connectTo(id, path, callback): path is optional
//	path=this.config.socketRoot+this.config.appspace+id;
//
// Note that ipc.serve takes an optional *path*, not an id: a server's default
// socket is named after ipc.config.id, a client's after the id passed to
// connectTo. No separator is inserted, so socketRoot must end with '/'.
//
// The defaults, entities/Defaults.js, node-ipc 9.x through 12.0.0:
//
//	appspace='app.';
//	socketRoot='/tmp/';
//
// so ipc.config.id = 'world' serves on "/tmp/app.world". node-ipc 13.0.0
// (entities/Defaults.js, lines 5-6 and function getSocketRoot, lines 54-67)
// keeps appspace 'app.' but changed the default socketRoot to
// path.join(process.env.XDG_RUNTIME_DIR,'node-ipc')+path.sep when
// XDG_RUNTIME_DIR is set, else path.join(os.tmpdir(),`node-ipc-${uid}`)+path.sep,
// and `/node-ipc-${userName}/` on win32. goipc's own defaults follow the same
// idea under the name "goipc" ([DefaultRoot]); set Namespace.Root explicitly
// to talk to a node-ipc peer.
//
// On Windows node-ipc maps the same string to a named pipe. dao/socketServer.js
// (node-ipc 9.x-12, in start/startServer):
//
//	if (process.platform ==='win32'){
//	    this.path = this.path.replace(/^\//, '');
//	    this.path = this.path.replace(/\//g, '-');
//	    this.path= `\\\\.\\pipe\\${this.path}`;
//	}
//
// and node-ipc 13's dao/client.js connectionOptions does the same unless the
// path already starts with `\\.\pipe\`. So "/tmp/app.world" becomes
// `\\.\pipe\tmp-app.world`; see [Namespace.PipeName].
//
// # Windows named pipes
//
// [ListenPipe] and [DialPipe] serve and reach local named pipes; goipc
// uses them for pipe://name and, on Windows, for ipc://id, whose pipe is
// Namespace.PipeName of the id under [DefaultPipeRoot] ("/goipc-<user>/",
// after node-ipc 13's win32 "/node-ipc-<user>/") unless a Root is set.
// [PipePath] validates and completes a name. Pipes are created with a
// current-user-only security descriptor ([DefaultPipeSDDL]), refuse remote
// clients, and refuse to join an existing pipe of the same name
// ([ErrAddrInUse]). Their connections are os.File handles on the Go
// runtime's I/O completion port (FILE_FLAG_OVERLAPPED, Go 1.25+), so reads
// and writes park goroutines, not threads, and deadlines work. Elsewhere
// ListenPipe and DialPipe fail with [ErrUnsupported].
//
// # Goroutine safety
//
// Namespace is a plain value and safe to share. All functions are safe for
// concurrent use. A [Listener]'s methods may be called from any goroutine,
// like those of *net.UnixListener.
package unix
