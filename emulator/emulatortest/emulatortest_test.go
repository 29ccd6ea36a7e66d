package emulatortest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// Emulators of parallel tests share nothing: each subtest changes its own emulator (an app, a
// contact) at the same time as the others and sees exactly its own state. Each emulator closes
// when its subtest ends: its own HTTP client can no longer reach it.
func TestEnvsShareNothingAndCloseWithTheTest(t *testing.T) {
	t.Parallel()
	const n = 4
	var emus [n]*emulator.Emulator
	t.Run("parallel", func(t *testing.T) {
		for i := range n {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				env := emulatortest.New(t, nil)
				emus[i] = env.Emulator
				ctx := context.Background()
				mine := fmt.Sprintf("only in env %d", i)
				if _, err := env.Emulator.CreateApp(ctx, emulator.NewApp{DisplayName: mine}); err != nil {
					t.Fatal(err)
				}
				client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := client.Create(ctx, "contacts", dataverse.Record{"lastname": mine}, nil); err != nil {
					t.Fatal(err)
				}

				apps, err := env.Emulator.Apps(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, a := range apps {
					names = append(names, a.DisplayName)
				}
				slices.Sort(names)
				if want := []string{emulator.DefaultAppName, mine}; !slices.Equal(names, want) {
					t.Errorf("env %d has apps %q, want %q", i, names, want)
				}
				page, err := client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}}})
				if err != nil {
					t.Fatal(err)
				}
				var lastNames []string
				for _, rec := range page.Items {
					lastNames = append(lastNames, fmt.Sprint(rec["lastname"]))
				}
				if !slices.Equal(lastNames, []string{mine}) {
					t.Errorf("env %d has contacts %q, want only %q", i, lastNames, mine)
				}
			})
		}
	})
	urls := map[string]bool{}
	for i, emu := range emus {
		if emu == nil {
			t.Fatalf("env %d did not start", i)
		}
		urls[emu.URL()] = true
		// The subtests ended, so their emulators are closed.
		resp, err := emu.HTTPClient().Get(emu.URL() + "/_emulator/health")
		if err == nil {
			resp.Body.Close()
			t.Errorf("env %d at %s still answers (%d) after its test ended", i, emu.URL(), resp.StatusCode)
		}
	}
	if len(urls) != n {
		t.Errorf("%d distinct URLs for %d emulators", len(urls), n)
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
