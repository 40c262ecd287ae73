// Command fixture-goapp prints the canonical form of the language tags it is
// given. It exists to be scanned: see go.mod.
package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	for _, arg := range os.Args[1:] {
		tag, err := language.Parse(arg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(tag.String())
	}
}
