// Command cannedserver runs the canned Dataverse Web API of package
// bench/canned over HTTPS on loopback: one server offering HTTP/2 and one
// offering HTTP/1.1 only, with the same self-signed certificate. It prints
//
//	export D365_CANNED_H2_URL=https://127.0.0.1:<port>
//	export D365_CANNED_H1_URL=https://127.0.0.1:<port>
//	export D365_CANNED_CA=<file>
//	# ready
//
// and serves until it receives SIGINT or SIGTERM, or (unless -stdin=false)
// its standard input closes. bench/run.sh starts it; clients trust the certificate through
// D365_CANNED_CA (Node.js: NODE_EXTRA_CA_CERTS).
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/d365s2s/d365/bench/canned"
)

func main() {
	ca := flag.String("ca", "", "file to write the servers' certificate to (PEM; default: a file in a new temporary directory)")
	stdin := flag.Bool("stdin", true, "also stop when standard input closes (false for a background job)")
	flag.Parse()
	if err := run(*ca, *stdin); err != nil {
		fmt.Fprintln(os.Stderr, "cannedserver:", err)
		os.Exit(1)
	}
}

func run(ca string, stopOnStdin bool) error {
	if ca == "" {
		dir, err := os.MkdirTemp("", "cannedserver")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		ca = filepath.Join(dir, "ca.pem")
	}
	p, err := canned.StartPair(os.Stdout, ca)
	if err != nil {
		return err
	}
	defer p.Close()
	done := make(chan struct{})
	if stopOnStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			close(done)
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	return nil
}
