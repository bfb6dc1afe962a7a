package test

import (
	"os"
	"testing"

	"github.com/amtrelay/amtrelay/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBuilt()
	os.Exit(code)
}
