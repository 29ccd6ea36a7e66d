package adminclient_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

// A script or another process scripts a running emulator over its admin API with the same
// methods a test calls in-process.
func Example() {
	emu, err := emulator.New(nil) // or `d365 emulator` in another process
	if err != nil {
		log.Fatal(err)
	}
	defer emu.Close()

	c, err := adminclient.New(emu.OrgURL(), emu.HTTPClient())
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	role, err := c.CreateRoleFromText(ctx, "Contact reader", []string{"prvReadContact:businessunit"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(role.Name, role.Privileges)

	_, err = c.App(ctx, "00000000-0000-4000-8000-00000000dead")
	var apiErr *adminclient.Error
	fmt.Println(errors.Is(err, emulator.ErrNotFound), errors.As(err, &apiErr) && apiErr.StatusCode == 404)
	// Output:
	// Contact reader [prvReadContact:businessunit]
	// true true
}
