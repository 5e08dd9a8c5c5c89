package listen

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// CertFile is a TLS certificate and its key read from two PEM files, read again when either
// file's modification time or size changes (checked at each handshake, two stats) or when
// Reload is called (camsd calls it on SIGHUP). A new pair that does not load (a file half
// written, a key that does not match) leaves the old pair serving and is logged once, until
// the files change again.
type CertFile struct {
	certPath, keyPath string
	logger            *slog.Logger

	mu      sync.Mutex
	cert    *tls.Certificate
	tried   [2]stamp // of the files last read, loaded or not
	current string   // the serving certificate's serial, for logs
}

// stamp is what tells that a file changed.
type stamp struct{ modNanos, size int64 }

// LoadCertFile reads the pair once: an error stops the start rather than serving nothing.
// logger (nil: slog.Default) hears of every reload, good or bad.
func LoadCertFile(certPath, keyPath string, logger *slog.Logger) (*CertFile, error) {
	if logger == nil {
		logger = slog.Default()
	}
	c := &CertFile{certPath: certPath, keyPath: keyPath, logger: logger}
	st, err := c.stamps()
	if err != nil {
		return nil, err
	}
	cert, err := c.read()
	if err != nil {
		return nil, err
	}
	c.cert, c.tried, c.current = cert, st, serial(cert)
	return c, nil
}

// TLSConfig is a server configuration that serves c's certificate to TLS 1.2 and later.
func (c *CertFile) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.GetCertificate}
}

// GetCertificate is tls.Config's hook: the pair, read again first if a file changed since
// the last read.
func (c *CertFile) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, err := c.stamps(); err == nil && st != c.tried {
		c.reload(st)
	} else if err != nil && c.tried != ([2]stamp{}) {
		// A file missing for a moment, as when it is replaced: keep serving, say so once.
		c.tried = [2]stamp{}
		c.logger.Warn("tls: certificate files unreadable; still serving the old certificate",
			"cert", c.certPath, "serial", c.current, "err", err.Error())
	}
	return c.cert, nil
}

// Reload reads the pair again whether or not the files changed. On error the old pair keeps
// serving.
func (c *CertFile) Reload() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.stamps()
	if err != nil {
		c.logger.Warn("tls: certificate reload failed; still serving the old certificate",
			"cert", c.certPath, "serial", c.current, "err", err.Error())
		return err
	}
	return c.reload(st)
}

// reload reads the files whose stamps are st; c.mu is held.
func (c *CertFile) reload(st [2]stamp) error {
	c.tried = st
	cert, err := c.read()
	if err != nil {
		c.logger.Warn("tls: certificate reload failed; still serving the old certificate",
			"cert", c.certPath, "serial", c.current, "err", err.Error())
		return err
	}
	c.cert, c.current = cert, serial(cert)
	c.logger.Info("tls: certificate loaded", "cert", c.certPath, "serial", c.current,
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func (c *CertFile) read() (*tls.Certificate, error) {
	cert, err := tls.LoadX509KeyPair(c.certPath, c.keyPath)
	if err != nil {
		return nil, fmt.Errorf("tls: %s, %s: %w", c.certPath, c.keyPath, err)
	}
	if cert.Leaf == nil { // nil only with GODEBUG=x509keypairleaf=0
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("tls: %s: %w", c.certPath, err)
		}
	}
	return &cert, nil
}

func (c *CertFile) stamps() ([2]stamp, error) {
	var st [2]stamp
	for i, p := range []string{c.certPath, c.keyPath} {
		fi, err := os.Stat(p)
		if err != nil {
			return st, fmt.Errorf("tls: %w", err)
		}
		st[i] = stamp{fi.ModTime().UnixNano(), fi.Size()}
	}
	return st, nil
}

func serial(cert *tls.Certificate) string { return cert.Leaf.SerialNumber.Text(16) }
