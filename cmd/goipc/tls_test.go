package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The TLS flags work for serve, send, connect, listen and bench.
func TestTLSFlags(t *testing.T) {
	dir := shortDir(t)
	srvTLS, cliTLS, err := benchTLS(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := startServe(t, "tls://127.0.0.1:0", "--echo", "--tls-cert", srvTLS.cert, "--tls-key", srvTLS.key)
	if !strings.HasPrefix(s.addr, "tls://127.0.0.1:") {
		t.Fatalf("listening on %q", s.addr)
	}
	ca := []string{"--tls-ca", cliTLS.ca}

	r := runGoipc(t, 20*time.Second, "", append([]string{"send", s.addr, "--data", "secret", "--expect-reply"}, ca...)...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"type":"message","data":"secret"}` {
		t.Fatalf("send over TLS: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = runGoipc(t, 20*time.Second, `{"type":"greet","data":{"a":1}}`+"\n", append([]string{"connect", s.addr, "--count", "1"}, ca...)...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"type":"greet","data":{"a":1}}` {
		t.Fatalf("connect over TLS: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// The server name checked is the one given, so a wrong one fails.
	r = runGoipc(t, 20*time.Second, "", append([]string{"send", s.addr, "--data", "x", "--tls-server-name", "not-this-host"}, ca...)...)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "goipc: ") {
		t.Fatalf("wrong server name: exit %d, stderr %q", r.code, r.stderr)
	}
	// Without the CA the server's certificate is not trusted.
	r = runGoipc(t, 20*time.Second, "", "send", s.addr, "--data", "x")
	if r.code != 1 {
		t.Fatalf("untrusted server: exit %d, stderr %q", r.code, r.stderr)
	}

	// listen over TLS, against a broadcasting server: once the server
	// reports the connection on stderr, broadcast one event.
	b := startServe(t, "tls://127.0.0.1:0", "--broadcast-stdin", "--tls-cert", srvTLS.cert, "--tls-key", srvTLS.key, "-v")
	done := make(chan result, 1)
	go func() {
		done <- runGoipc(t, 20*time.Second, "", append([]string{"listen", b.addr, "--json", "--count", "1"}, ca...)...)
	}()
	if !b.stderr.Scan() || !strings.Contains(b.stderr.Text(), "connected") {
		t.Fatalf("server stderr: %q", b.stderr.Text())
	}
	b.stdin.Write([]byte(`{"type":"tick","data":"hello over tls"}` + "\n"))
	if r := <-done; r.code != 0 || !strings.Contains(r.stdout, "hello over tls") {
		t.Fatalf("listen over TLS: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = runGoipc(t, 60*time.Second, "", "bench", "--transports", "tls", "--duration", "200ms", "--sizes", "64", "--inflight", "1", "--json")
	var rep struct {
		Rows []map[string]any `json:"results"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &rep) != nil || len(rep.Rows) != 1 {
		t.Fatalf("bench over TLS: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
