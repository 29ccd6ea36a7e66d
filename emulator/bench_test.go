package emulator_test

import (
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// BenchmarkNew measures starting and closing an in-memory emulator with the
// default seed: what every test that starts its own emulator pays.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		emu, err := emulator.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := emu.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
