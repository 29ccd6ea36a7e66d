package emulatortest_test

import (
	"context"
	"fmt"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// exampleT stands in for the *testing.T a real test passes to New.
type exampleT struct{ cleanups []func() }

func (t *exampleT) Helper()                           {}
func (t *exampleT) Cleanup(f func())                  { t.cleanups = append(t.cleanups, f) }
func (t *exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }
func (t *exampleT) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (t *exampleT) finish() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

func Example() {
	t := &exampleT{} // in a test: the test's *testing.T
	defer t.finish()
	ctx := context.Background()

	env := emulatortest.New(t, nil)
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		panic(err)
	}
	created, err := client.Create(ctx, "contacts", dataverse.Record{"firstname": "Ada", "lastname": "Lovelace"}, nil)
	if err != nil {
		panic(err)
	}
	var contact struct {
		LastName string `json:"lastname"`
	}
	if err := client.Retrieve(ctx, "contacts", created.ID, &contact, &dataverse.RetrieveOptions{Select: []string{"lastname"}}); err != nil {
		panic(err)
	}
	fmt.Println("created", contact.LastName)

	// The admin surface reproduces failures on demand: here, the application user is disabled.
	if err := env.Emulator.SetApplicationUserEnabled(ctx, env.Credentials.ClientID, false); err != nil {
		panic(err)
	}
	_, err = client.WhoAmI(ctx)
	fmt.Println("forbidden:", dataverse.IsForbidden(err))
	fmt.Println(env.Credentials.ClientID == emulator.DefaultClientID)
	// Output:
	// created Lovelace
	// forbidden: true
	// true
}
