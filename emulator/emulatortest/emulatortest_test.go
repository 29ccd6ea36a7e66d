package emulatortest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

func TestEnvsShareNothingAndCloseWithTheTest(t *testing.T) {
	t.Parallel()
	var urls [2]string
	for i := range urls {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			env := emulatortest.New(t, nil)
			urls[i] = env.OrgURL
			tok, err := env.Credential.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{env.OrgURL + "/.default"}})
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				// A second emulator must not know the first one's app registration state.
				if _, err := env.Emulator.CreateApp(context.Background(), emulator.NewApp{DisplayName: "only in env 0"}); err != nil {
					t.Fatal(err)
				}
			}
			apps, err := env.Emulator.Apps(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if want := 2 - i; len(apps) != want {
				t.Errorf("env %d has %d apps, want %d", i, len(apps), want)
			}
			if tok.Token == "" {
				t.Error("empty token")
			}
		})
	}
	if urls[0] == urls[1] {
		t.Errorf("both envs listen on %s", urls[0])
	}
	// The subtests ended, so their emulators are closed.
	if _, err := http.Get(strings.Replace(urls[0], "https", "http", 1) + "/_emulator/health"); err == nil {
		t.Errorf("the emulator at %s still answers after its test ended", urls[0])
	}
}

// fakeTB records Fatalf instead of stopping the test.
type fakeTB struct {
	fatal    string
	cleanups []func()
}

func (f *fakeTB) Helper()                           {}
func (f *fakeTB) Cleanup(fn func())                 { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fakeTB) Errorf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }

func TestNewFailsTheTestWhenTheEmulatorCannotStart(t *testing.T) {
	t.Parallel()
	f := &fakeTB{}
	sc, err := emulator.ParseScenario([]byte("apps:\n  - clientId: nope\n"), "bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if env := emulatortest.New(f, &emulator.Options{Scenario: sc}); env != nil {
		t.Error("New returned an env for an emulator that did not start")
	}
	if !strings.Contains(f.fatal, "bad.yaml: line 2: apps[0].clientId") {
		t.Errorf("Fatalf(%q), want the scenario error", f.fatal)
	}
	if len(f.cleanups) != 0 {
		t.Errorf("%d cleanups registered for an emulator that did not start", len(f.cleanups))
	}
}
