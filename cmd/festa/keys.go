package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"

	"festa/db"
	"festa/seatview"
	"festa/tickets"
)

// ticketRing reads FESTA_TICKET_KEYS. Without it (dev), a key is generated
// once and kept in the database's settings, so every instance and every
// restart signs with the same key.
func ticketRing(ctx context.Context, e env, store *db.Store, log *slog.Logger) (*tickets.Ring, error) {
	if spec := e.getenv("FESTA_TICKET_KEYS"); spec != "" {
		r, err := tickets.ParseRing(spec)
		if err != nil {
			return nil, fmt.Errorf("FESTA_TICKET_KEYS: %w", err)
		}
		return r, nil
	}
	spec, err := store.SettingOrInit(ctx, "ticket_keys", func() (string, error) {
		k, err := tickets.GenerateKey("dev1")
		return k.Spec(), err
	})
	if err != nil {
		return nil, err
	}
	log.Warn("FESTA_TICKET_KEYS is not set: signing tickets with the key kept in the database (fine for dev; set it in production)")
	return tickets.ParseRing(spec)
}

// holders loads the key of the live map's holder tags (see seatview.Holders),
// creating it on first start; every instance shares it through the database.
func holders(ctx context.Context, store *db.Store) (seatview.Holders, error) {
	v, err := store.SettingOrInit(ctx, "holder_key", func() (string, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return hex.EncodeToString(b), err
	})
	if err != nil {
		return seatview.Holders{}, err
	}
	key, err := hex.DecodeString(v)
	if err != nil {
		return seatview.Holders{}, fmt.Errorf("holder_key setting: %w", err)
	}
	return seatview.NewHolders(key), nil
}
