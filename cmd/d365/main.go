// Command d365 is the command-line tool of the d365 toolkit: a local Entra ID + Dataverse
// emulator, access tokens, and Dataverse Web API requests from the shell. Run "d365 --help".
package main

import (
	"os"

	"github.com/d365s2s/d365/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], cli.System())) }
