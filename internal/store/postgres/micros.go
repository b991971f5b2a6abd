package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The fragment path reads times as unix microseconds into int64s, as SQLite
// stores them. PostgreSQL keeps a timestamptz as microseconds since
// 2000-01-01 and sends exactly that in binary, so each connection's type
// map scans a timestamptz into an *int64 by adding the offset. Converting in
// SQL instead (micros(), extract(epoch …) in numeric) cost about a third of
// the memberships statement (pgbench, 10 memberships); a float8 epoch is
// cheap but loses the last microsecond far from 1970.
func registerMicros(_ context.Context, conn *pgx.Conn) error {
	conn.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &microsCodec{}})
	return nil
}

// unixTo2000 is 2000-01-01 in unix microseconds.
const unixTo2000 = 946_684_800_000_000

type microsCodec struct{ pgtype.TimestamptzCodec }

func (c *microsCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if _, ok := target.(*int64); ok {
		if format == pgtype.BinaryFormatCode {
			return scanMicros{}
		}
		return scanMicrosVia{c.TimestamptzCodec.PlanScan(m, oid, format, &pgtype.Timestamptz{})}
	}
	return c.TimestamptzCodec.PlanScan(m, oid, format, target)
}

var errTime = errors.New("postgres: a time that is NULL or infinite has no unix microseconds")

// scanMicros reads the binary form: big-endian microseconds since 2000.
type scanMicros struct{}

func (scanMicros) Scan(src []byte, dst any) error {
	if len(src) != 8 {
		return errTime
	}
	us := int64(binary.BigEndian.Uint64(src))
	if us == math.MaxInt64 || us == math.MinInt64 { // infinity, -infinity
		return errTime
	}
	*dst.(*int64) = us + unixTo2000
	return nil
}

// scanMicrosVia reads any other format through pgx's own plan.
type scanMicrosVia struct{ plan pgtype.ScanPlan }

func (s scanMicrosVia) Scan(src []byte, dst any) error {
	var t pgtype.Timestamptz
	if err := s.plan.Scan(src, &t); err != nil {
		return err
	}
	if !t.Valid || t.InfinityModifier != pgtype.Finite {
		return errTime
	}
	*dst.(*int64) = t.Time.UnixMicro()
	return nil
}
