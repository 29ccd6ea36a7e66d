package cli

import "testing"

// TestDemoCmdArgs: "d365 demo" hands the factory's streams and its context to the run function,
// and refuses arguments with exit 2 before starting anything (demo.txtar runs the demo itself).
func TestDemoCmdArgs(t *testing.T) {
	f, _ := testFactory(outputJSON)
	var got *demoOptions
	if err := executeCmd(newCmdDemo(f, func(o *demoOptions) error { got = o; return nil }), ""); err != nil {
		t.Fatal(err)
	}
	if got.IO != f.IOStreams || got.Context == nil {
		t.Errorf("options = %+v: not the factory's streams, or no context", got)
	}
	got = nil
	err := executeCmd(newCmdDemo(f, func(o *demoOptions) error { got = o; return nil }), "", "fast")
	checkRefusal(t, err, "d365 demo needs no arguments", got != nil)
}
