package sqlite_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/storetest"
)

func TestVersionsAdded(t *testing.T) {
	storetest.RunVersions(t, func(t *testing.T) storetest.VersionStore { return open(t) })
}
