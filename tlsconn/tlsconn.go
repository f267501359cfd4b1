// Package tlsconn builds goipc's TLS configurations: TLS 1.2 at least (1.3
// preferred), certificates verified and server names checked by default,
// mutual TLS when a server is given a client CA. Anything insecure needs an
// explicit, loudly named option.
//
// TLS runs over the standard library's crypto/tls on blocking net.Conns, so
// goipc drives TLS connections with goroutines rather than event loops.
package tlsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// DefaultHandshakeTimeout bounds a TLS handshake when none is configured.
const DefaultHandshakeTimeout = 10 * time.Second

// Errors.
var (
	// ErrConfig reports a TLS configuration that cannot work.
	ErrConfig = errors.New("tlsconn: bad configuration")
	// ErrHandshake wraps a failed handshake.
	ErrHandshake = errors.New("tlsconn: handshake failed")
)

// Config describes one end's TLS. Certificates come from PEM files or from
// a ready *tls.Config (TLS, which then takes precedence over the files but
// still gets goipc's minimum version unless it sets one).
//
// A server needs CertFile and KeyFile; with CAFile it requires client
// certificates signed by that CA (mutual TLS). A client verifies the
// server against CAFile (or the system roots when CAFile is empty) and the
// ServerName (or the host of the address dialed); with CertFile and
// KeyFile it presents a client certificate.
type Config struct {
	CertFile   string
	KeyFile    string
	CAFile     string
	ServerName string
	// TLS, when set, is cloned and used instead of building one from the
	// files.
	TLS *tls.Config
	// HandshakeTimeout bounds the handshake; zero means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// InsecureSkipVerifyDevelopmentOnly turns off verification of the
	// server's certificate on a client: anyone can impersonate the server.
	// For development against self-signed certificates only; never in
	// production.
	InsecureSkipVerifyDevelopmentOnly bool
}

// Enabled reports whether c configures TLS at all.
func (c Config) Enabled() bool {
	return c.TLS != nil || c.CertFile != "" || c.KeyFile != "" || c.CAFile != "" || c.ServerName != "" || c.InsecureSkipVerifyDevelopmentOnly
}

// Timeout returns the handshake timeout in force.
func (c Config) Timeout() time.Duration {
	if c.HandshakeTimeout > 0 {
		return c.HandshakeTimeout
	}
	return DefaultHandshakeTimeout
}

func loadPool(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrConfig, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, file)
	}
	return pool, nil
}

func (c Config) base() (*tls.Config, error) {
	var t *tls.Config
	if c.TLS != nil {
		t = c.TLS.Clone()
	} else {
		t = &tls.Config{}
	}
	if t.MinVersion == 0 {
		t.MinVersion = tls.VersionTLS12
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if c.CertFile == "" || c.KeyFile == "" {
			return nil, fmt.Errorf("%w: a certificate needs both CertFile and KeyFile", ErrConfig)
		}
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		t.Certificates = append(t.Certificates, cert)
	}
	return t, nil
}

// Server returns the server-side *tls.Config.
func (c Config) Server() (*tls.Config, error) {
	if c.InsecureSkipVerifyDevelopmentOnly {
		return nil, fmt.Errorf("%w: InsecureSkipVerifyDevelopmentOnly is a client option", ErrConfig)
	}
	t, err := c.base()
	if err != nil {
		return nil, err
	}
	if len(t.Certificates) == 0 && t.GetCertificate == nil && t.GetConfigForClient == nil {
		return nil, fmt.Errorf("%w: a TLS server needs a certificate (CertFile and KeyFile)", ErrConfig)
	}
	if c.CAFile != "" {
		pool, err := loadPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		t.ClientCAs = pool
		t.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return t, nil
}

// Client returns the client-side *tls.Config for dialing host.
func (c Config) Client(host string) (*tls.Config, error) {
	t, err := c.base()
	if err != nil {
		return nil, err
	}
	if c.CAFile != "" {
		if t.RootCAs, err = loadPool(c.CAFile); err != nil {
			return nil, err
		}
	}
	switch {
	case c.ServerName != "":
		t.ServerName = c.ServerName
	case t.ServerName == "":
		t.ServerName = host
	}
	if c.InsecureSkipVerifyDevelopmentOnly {
		t.InsecureSkipVerify = true
	}
	return t, nil
}

// Handshake runs the handshake of conn within the timeout.
func Handshake(ctx context.Context, conn *tls.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := conn.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrHandshake, err)
	}
	return nil
}

// Dial connects to addr over TCP and completes the handshake.
func Dial(ctx context.Context, network, addr string, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	d := tls.Dialer{Config: cfg, NetDialer: &net.Dialer{}}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		var ve *tls.CertificateVerificationError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
		}
		return nil, err
	}
	return nc.(*tls.Conn), nil
}
