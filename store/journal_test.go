package store_test

import (
	"context"

	"github.com/townhall/townhall/store"
)

func (d *failingDriver) JournalInsert(context.Context, store.JournalInsertParams) ([]string, error) {
	d.calls++
	return nil, errBoom
}

func (d *failingDriver) ClaimCountHeld(context.Context, store.ClaimCountHeldParams) (int, error) {
	d.calls++
	return 0, errBoom
}

func (d *failingDriver) JournalDelete(context.Context, store.JournalDeleteParams) error {
	d.calls++
	return errBoom
}

func (d *failingDriver) JournalTakeOver(context.Context, store.JournalTakeOverParams) ([]store.JournalEntry, error) {
	d.calls++
	return nil, errBoom
}

func (d *failingDriver) JournalPurge(context.Context, store.JournalPurgeParams) (int, error) {
	d.calls++
	return 0, errBoom
}
