package emulator_test

import (
	"errors"
	"fmt"

	"github.com/d365s2s/d365/emulator"
)

// Delta tokens of change tracking stay valid for the organization's ExpireChangeTrackingInDays
// (7 unless a scenario says otherwise); a test of a client's full-resync path shortens it, or
// moves the clock past it with SetClockOffset.
func ExampleEmulator_SetExpireChangeTrackingInDays() {
	emu, err := emulator.New(nil)
	if err != nil {
		panic(err)
	}
	defer emu.Close()
	fmt.Println("default:", emu.ExpireChangeTrackingInDays())
	if err := emu.SetExpireChangeTrackingInDays(0); err != nil { // every delta token is now expired
		panic(err)
	}
	fmt.Println("now:", emu.ExpireChangeTrackingInDays())
	err = emu.SetExpireChangeTrackingInDays(400)
	fmt.Println(errors.Is(err, emulator.ErrInvalid), err)
	// Output:
	// default: 7
	// now: 0
	// true emulator: expireChangeTrackingInDays 400 is out of range: give 0 to 365 days
}
