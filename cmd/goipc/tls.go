package main

import (
	"github.com/seed-fc4a2f4b/goipc"
	"github.com/seed-fc4a2f4b/goipc/internal/pki"
	"github.com/seed-fc4a2f4b/goipc/tlsconn"
)

// tlsOption turns the TLS flags into the library's option: --tls-cert and
// --tls-key are this end's certificate, --tls-ca the CA that verifies the
// peer (on a server: client certificates are then required), and
// --tls-server-name the name a client checks.
func tlsOption(t tlsFlags) (goipc.Option, error) {
	if (t.cert == "") != (t.key == "") {
		return nil, usagef("--tls-cert and --tls-key go together")
	}
	return goipc.WithTLS(tlsconn.Config{CertFile: t.cert, KeyFile: t.key, CAFile: t.ca, ServerName: t.serverName}), nil
}

// benchTLS writes a throwaway CA and a certificate for 127.0.0.1, ::1 and
// localhost, valid for a day, into dir, and returns the server's and the
// client's TLS flags, for `bench --transports tls`.
func benchTLS(dir string) (server, client tlsFlags, err error) {
	ca, err := pki.NewCA(dir, "goipc bench CA")
	if err != nil {
		return server, client, err
	}
	cert, key, err := ca.Issue("localhost")
	if err != nil {
		return server, client, err
	}
	return tlsFlags{cert: cert, key: key}, tlsFlags{ca: ca.File}, nil
}
