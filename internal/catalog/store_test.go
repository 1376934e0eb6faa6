package catalog_test

import (
	"testing"

	"github.com/brokerhq/broker/internal/catalog"
	"github.com/brokerhq/broker/internal/catalog/catalogtest"
)

func TestMemoryStoreContract(t *testing.T) {
	catalogtest.Run(t, func(*testing.T) catalog.Store { return catalog.NewMemory() })
}
