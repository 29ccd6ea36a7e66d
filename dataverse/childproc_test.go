package dataverse_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/dataverse"
)

// The crash tests run part of their work in a child process (this test
// binary, re-executed to run one helper test) so that they can kill it
// with SIGKILL. The child reaches the parent's emulator over HTTPS, as any
// other program would; childConn is what it needs for that.

// childConn is how a child process connects to the parent's emulator. It
// is embedded in each crash test's job, which travels as JSON.
type childConn struct {
	OrgURL, Authority, Tenant, ClientID, ClientSecret string
	// CAFile holds the emulator's CA certificate (see writeCAFile).
	CAFile string
}

// client returns a client of the emulator that trusts its CA and signs in
// with the client secret.
func (cc *childConn) client(t testing.TB) *dataverse.Client {
	t.Helper()
	ca, err := os.ReadFile(cc.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	co := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: cc.Authority}, Transport: hc}
	cred, err := azidentity.NewClientSecretCredential(cc.Tenant, cc.ClientID, cc.ClientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dataverse.NewClient(cc.OrgURL, cred, &dataverse.ClientOptions{ClientOptions: co})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeCAFile writes the emulator's CA certificate to ca.pem in dir and
// returns its path, for childConn.CAFile.
func writeCAFile(t testing.TB, dir string, caPEM []byte) string {
	t.Helper()
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startChild starts this test binary running only the test helper, with
// the environment variable env set to job as JSON. exited receives the
// child's end; out collects its output, to show when it ends too soon.
func startChild(t testing.TB, helper, env string, job any) (cmd *exec.Cmd, exited <-chan error, out *strings.Builder) {
	t.Helper()
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+string(spec))
	out = new(strings.Builder)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return cmd, done, out
}
