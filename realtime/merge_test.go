package realtime

import (
	"context"
	"io"
	"testing"

	"github.com/a-h/templ"
)

func element(id, body string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<b id="`+id+`" hx-swap-oob="true">`+body+`</b>`)
		return err
	})
}

func build(t *testing.T, parts ...[2]string) *message {
	t.Helper()
	var b builder
	for _, p := range parts {
		if err := b.add(context.Background(), p[0], element(p[0], p[1])); err != nil {
			t.Fatal(err)
		}
	}
	return &message{data: b.buf.Bytes(), ids: b.ids, ends: b.ends}
}

// Messages waiting in one queue merge into one, keeping the newest copy of
// each element: what applying them in order would show, ids unique.
func TestMerge(t *testing.T) {
	m1 := build(t, [2]string{"seat-A1", "held"}, [2]string{"seat-A2", "held"}, [2]string{"occupancy", "2"})
	m2 := build(t, [2]string{"seat-A1", "free"}, [2]string{"occupancy", "1"})
	m3 := build(t, [2]string{"seat-B7", "sold"}, [2]string{"occupancy", "2b"})
	got := string(merge(nil, []*message{m1, m2, m3}))
	want := `<b id="seat-A2" hx-swap-oob="true">held</b>` +
		`<b id="seat-A1" hx-swap-oob="true">free</b>` +
		`<b id="seat-B7" hx-swap-oob="true">sold</b><b id="occupancy" hx-swap-oob="true">2b</b>`
	if got != want {
		t.Fatalf("merge =\n%s\nwant\n%s", got, want)
	}
	if got := string(merge(nil, []*message{m2})); got != string(m2.data) {
		t.Fatalf("merge of one = %s", got)
	}
}
