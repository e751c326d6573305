package main

import (
	"fmt"
	"time"

	"festa/tickets"
)

func runKeygen(e env, args []string) error {
	fs := newFlags(e, "keygen", "Print a fresh Ed25519 ticket-signing key as id:hex-seed, for FESTA_TICKET_KEYS.\nPut the new key first to sign with it; keep old keys after it so their tickets still verify.")
	id := fs.String("id", "k"+time.Now().UTC().Format("20060102"), "key id (1–16 of a–z, 0–9)")
	if err := parse(fs, args); err != nil {
		return err
	}
	k, err := tickets.GenerateKey(*id)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintln(e.stdout, k.Spec())
	return nil
}
