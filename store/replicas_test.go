package store_test

import (
	"context"

	"github.com/townhall/townhall/store"
)

func (d *failingDriver) ReplicaPut(context.Context, store.ReplicaPutParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) ReplicaList(context.Context, store.ReplicaListParams) ([]store.Replica, error) {
	d.calls++
	return nil, errBoom
}

func (d *failingDriver) ReplicaDelete(context.Context, store.ReplicaDeleteParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) ReplicaPurge(context.Context, store.ReplicaPurgeParams) (int, error) {
	d.calls++
	return 0, errBoom
}
