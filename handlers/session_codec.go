package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionCodec encodes sessions as small tagged JSON instead of scs's gob.
// Every request decodes its session, and gob sends and compiles the type
// description of each value with every blob: an eighth of a booking tap's
// CPU in BenchmarkHoldRelease. festa's sessions hold only strings, int64s
// and bools; a session with any other value is written as gob, and every
// gob session (all of them, before this codec) still reads, so nobody is
// signed out by the change.
type SessionCodec struct{}

// sessionJSON starts a session encoded by SessionCodec. A gob stream
// starts with a length byte, never with '{'.
var sessionJSON = []byte("{\"festa\":1,")

type taggedSession struct {
	Festa    int                  `json:"festa"`
	Deadline time.Time            `json:"d"`
	Values   map[string][2]string `json:"v"` // key → {type, value}: "s", "i" or "b"
}

func (SessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	out := taggedSession{Festa: 1, Deadline: deadline, Values: make(map[string][2]string, len(values))}
	for k, v := range values {
		switch v := v.(type) {
		case string:
			out.Values[k] = [2]string{"s", v}
		case int64:
			out.Values[k] = [2]string{"i", strconv.FormatInt(v, 10)}
		case bool:
			out.Values[k] = [2]string{"b", strconv.FormatBool(v)}
		default:
			return scs.GobCodec{}.Encode(deadline, values)
		}
	}
	b, err := json.Marshal(out)
	if err == nil && !bytes.HasPrefix(b, sessionJSON) {
		err = fmt.Errorf("session codec: encoded as %.20q", b)
	}
	return b, err
}

func (SessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if !bytes.HasPrefix(b, sessionJSON) {
		return scs.GobCodec{}.Decode(b)
	}
	var in taggedSession
	if err := json.Unmarshal(b, &in); err != nil {
		return time.Time{}, nil, err
	}
	values := make(map[string]any, len(in.Values))
	for k, tv := range in.Values {
		switch tv[0] {
		case "s":
			values[k] = tv[1]
		case "i":
			n, err := strconv.ParseInt(tv[1], 10, 64)
			if err != nil {
				return time.Time{}, nil, fmt.Errorf("session codec: %s: %w", k, err)
			}
			values[k] = n
		case "b":
			values[k] = tv[1] == "true"
		default:
			return time.Time{}, nil, fmt.Errorf("session codec: %s has type %q", k, tv[0])
		}
	}
	return in.Deadline, values, nil
}
