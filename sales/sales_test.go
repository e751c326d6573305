package sales_test

import (
	"testing"
	"time"

	"festa/db"
	"festa/sales"
)

func TestSalesStatus(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	p := db.Performance{SalesOpenAt: now.Add(-time.Hour), SalesCloseAt: now.Add(time.Hour)}
	cases := []struct {
		name string
		edit func(*db.Performance)
		want string
	}{
		{"open", func(*db.Performance) {}, sales.Open},
		{"before opening", func(p *db.Performance) { p.SalesOpenAt = now.Add(time.Second) }, sales.Soon},
		{"at the opening second", func(p *db.Performance) { p.SalesOpenAt = now }, sales.Open},
		{"at closing", func(p *db.Performance) { p.SalesCloseAt = now }, sales.Closed},
		{"paused", func(p *db.Performance) { p.Paused = true }, sales.Paused},
		{"paused but closed", func(p *db.Performance) { p.Paused, p.SalesCloseAt = true, now.Add(-time.Second) }, sales.Closed},
	}
	for _, c := range cases {
		q := p
		c.edit(&q)
		if got := sales.Status(q, now); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
