package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/wachtbench/memberships/internal/store/fragment"
)

// kept are the statements each prepares once per connection and keeps:
// the fixed fragment SQL, so the cache is bounded. Any other text is
// prepared and closed per call.
var kept = map[string]bool{
	fragmentSQL.Memberships:   true,
	fragmentSQL.Workspaces:    true,
	fragmentSQL.Organizations: true,
	fragmentSQL.Roles:         true,
}

// each runs query and calls row for each row, scanned by driverRow. Only
// Store.query calls it, inside conn.Raw, which holds the connection for it
// alone.
func (c *countingConn) each(ctx context.Context, query string, args []any, row func(fragment.Scanner) error) error {
	st, ok := c.stmts[query]
	if !ok {
		var err error
		if st, err = c.PrepareContext(ctx, query); err != nil {
			return err
		}
		if !kept[query] {
			defer st.Close()
		} else {
			if c.stmts == nil {
				c.stmts = map[string]driver.Stmt{}
			}
			c.stmts[query] = st
		}
	}
	// The arguments and values are the connection's, reused, and cleared
	// after: nothing of one request stays reachable from the pool.
	named := c.args[:0]
	defer func() { clear(named); c.args = named[:0] }()
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return fmt.Errorf("sqlite: argument %d: %w", i+1, err)
		}
		named = append(named, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	rows, err := st.(driver.StmtQueryContext).QueryContext(ctx, named)
	if err != nil {
		return err
	}
	defer rows.Close()
	if n := len(rows.Columns()); cap(c.vals) < n {
		c.vals = make(driverRow, n)
	} else {
		c.vals = c.vals[:n]
	}
	defer clear(c.vals)
	// The driver watches ctx only until the first row; database/sql's
	// rows stopped at the next row once it was done, and so does this.
	done := ctx.Done()
	for {
		if done != nil {
			select {
			case <-done:
				return ctx.Err()
			default:
			}
		}
		if err := rows.Next(c.vals); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if err := row(&c.vals); err != nil {
			return err
		}
	}
}

// Close closes the statements each prepared, then the connection.
func (c *countingConn) Close() error {
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
	return c.Conn.Close()
}

// driverRow is a row as the driver returns it: int64, float64, string (for
// TEXT), []byte or nil. Scan stores it into the destinations the fragment
// path uses, converting as database/sql would (STRICT tables leave little
// to convert, but expressions have no declared type).
type driverRow []driver.Value

func (r *driverRow) Scan(dest ...any) error {
	row := *r
	if len(dest) != len(row) {
		return fmt.Errorf("sqlite: %d destinations for %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		// Most columns are integers: those first, inline.
		if p, ok := d.(*int64); ok {
			if n, ok := row[i].(int64); ok {
				*p = n
				continue
			}
		}
		if err := assign(d, row[i]); err != nil {
			return fmt.Errorf("sqlite: column %d: %w", i, err)
		}
	}
	return nil
}

var errNull = errors.New("NULL into a value that cannot be NULL")

func assign(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *int64:
		if n, ok := v.(int64); ok {
			*d = n
			return nil
		}
		if v == nil {
			return errNull
		}
		n, err := strconv.ParseInt(text(v), 10, 64)
		if err != nil {
			return err
		}
		*d = n
		return nil
	case *sql.RawBytes: // its own buffer, reused row after row
		switch v := v.(type) {
		case string:
			*d = append((*d)[:0], v...)
		case []byte:
			*d = append((*d)[:0], v...)
		case nil:
			*d = nil
		default:
			*d = append((*d)[:0], text(v)...)
		}
		return nil
	case *[]byte:
		switch v := v.(type) {
		case nil:
			*d = nil
		case []byte:
			*d = bytes.Clone(v)
		default:
			*d = []byte(text(v))
		}
		return nil
	case *string:
		if v == nil {
			return errNull
		}
		*d = text(v)
		return nil
	case *bool:
		if v == nil {
			return errNull
		}
		b, err := driver.Bool.ConvertValue(v)
		if err == nil {
			*d = b.(bool)
		}
		return err
	case sql.Scanner:
		return d.Scan(v)
	}
	return fmt.Errorf("cannot store %T in %T", v, dest)
}

// text is a value as text, as database/sql formats it (asString, and
// RFC 3339 for times).
func text(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case time.Time: // DATE, DATETIME and TIMESTAMP columns: none in STRICT tables
		return v.Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
