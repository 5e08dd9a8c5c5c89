package main

import (
	"crypto/tls"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/camsd/camsd/listen"
)

// listen opens addr for one of camsd's servers: at most --max-conns connections open at
// once, the excess closed as soon as accepted (issue 15: idle keep-alive connections had
// used up the process's file descriptors), and TLS 1.2 or later when certPath is set, its
// certificate read again when its files change and on SIGHUP. It returns the listener to
// serve, whose connections are *tls.Conn when TLS is on (so that a request's r.TLS, and
// with it acs:SecureTransport, comes from the connection and never from a header), and the
// URL clients reach it at.
func (m *Main) listen(addr, certPath, keyPath string) (net.Listener, string, error) {
	var cert *listen.CertFile
	if certPath != "" {
		c, err := listen.LoadCertFile(certPath, keyPath, m.logger)
		if err != nil {
			return nil, "", err
		}
		cert = c
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", err
	}
	limited := listen.Limit(ln, m.Config.MaxConns)
	if cert == nil {
		return limited, "http://" + ln.Addr().String(), nil
	}
	m.reloadOnHangup(cert)
	cfg := cert.TLSConfig()
	cfg.NextProtos = []string{"h2", "http/1.1"} // as http.Server.ServeTLS offers
	return tls.NewListener(limited, cfg), "https://" + ln.Addr().String(), nil
}

// reloadOnHangup reads cert's files again at each SIGHUP, until stopReloads.
func (m *Main) reloadOnHangup(cert *listen.CertFile) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	m.stopHangups = append(m.stopHangups, func() { signal.Stop(hup); close(done) })
	go func() {
		for {
			select {
			case <-hup:
				_ = cert.Reload() // a bad pair is logged, and the old one keeps serving
			case <-done:
				return
			}
		}
	}()
}

// stopReloads stops listening for SIGHUP.
func (m *Main) stopReloads() {
	for _, stop := range m.stopHangups {
		stop()
	}
	m.stopHangups = nil
}
