package specgate

import (
	"fmt"
	"os"
	"regexp"

	"github.com/oasdiff/oasdiff/checker"
	"gopkg.in/yaml.v3"
)

// Allowance is one deliberate difference from the published contract: an
// oasdiff check id, the API path it is on, a regexp that picks the change out
// by its text (e.g. the property's name), and why it is fine.
type Allowance struct {
	ID     string `yaml:"id"`
	Path   string `yaml:"path"`
	Match  string `yaml:"match"`
	Reason string `yaml:"reason"`

	re *regexp.Regexp
}

// LoadAllowances reads a YAML list of allowances; every row needs an id, a
// path and a reason.
func LoadAllowances(path string) ([]Allowance, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list []Allowance
	if err := yaml.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for i := range list {
		a := &list[i]
		if a.ID == "" || a.Path == "" || a.Reason == "" {
			return nil, fmt.Errorf("%s: row %d: id, path and reason are required", path, i+1)
		}
		if a.re, err = regexp.Compile(a.Match); err != nil {
			return nil, fmt.Errorf("%s: row %d: match: %w", path, i+1, err)
		}
	}
	return list, nil
}

func (a *Allowance) allows(c checker.Change, l checker.Localizer) bool {
	return c.GetId() == a.ID && c.GetPath() == a.Path && a.re.MatchString(c.GetUncolorizedText(l))
}

// Unallowed returns the changes that may break a client of the base contract
// (oasdiff's WARN or ERR) and that no allowance covers, and the allowances
// that cover no change at all (stale rows, to be removed so the list stays true).
func Unallowed(changes checker.Changes, allowed []Allowance) (unallowed checker.Changes, unused []Allowance) {
	l := checker.NewDefaultLocalizer()
	used := make([]bool, len(allowed))
	for _, c := range changes {
		ok := false
		for i := range allowed {
			if allowed[i].allows(c, l) {
				used[i], ok = true, true
			}
		}
		if !ok && c.GetLevel() >= checker.WARN {
			unallowed = append(unallowed, c)
		}
	}
	for i, u := range used {
		if !u {
			unused = append(unused, allowed[i])
		}
	}
	return unallowed, unused
}
