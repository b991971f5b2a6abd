// Package specgate judges a change of the contract with oasdiff (used as a
// library, so the judgement is testable without git or a CLI): which changes
// break existing clients, whether info.version's major number says so, and the
// changelog every change gets. It also checks our contract against the
// published Wacht one, allowing only listed, reasoned differences.
//
// It imports no other package of the module.
package specgate

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/oasdiff/checker"
	"github.com/oasdiff/oasdiff/diff"
	"github.com/oasdiff/oasdiff/formatters"
	"github.com/oasdiff/oasdiff/load"
)

// Load parses an OpenAPI document (YAML or JSON, 3.0 or 3.1). name is how
// changes refer to it, e.g. "openapi.yaml" or "main:openapi.yaml".
func Load(name string, data []byte) (*load.SpecInfo, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false // a contract is one file; never fetch
	loader.IncludeOrigin = true          // line numbers in the changes
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", name, err)
	}
	version := ""
	if doc.Info != nil {
		version = doc.Info.Version
	}
	return &load.SpecInfo{Url: name, Spec: doc, Version: version}, nil
}

// LoadFile is Load on a file, named by its path.
func LoadFile(path string) (*load.SpecInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, data)
}

// Report is oasdiff's judgement of revision against base.
type Report struct {
	Base, Revision *load.SpecInfo
	// Changes are all changes oasdiff names, from INFO (compatible) to ERR (breaking).
	Changes   checker.Changes
	diffEmpty bool
}

// Compare diffs two contracts and runs every oasdiff check at its default
// level, or at the level opts set (e.g. checker.WithSeverityLevels).
func Compare(base, revision *load.SpecInfo, opts ...checker.Option) (*Report, error) {
	d, sources, err := diff.GetPathsDiff(diff.NewConfig(), []*load.SpecInfo{base}, []*load.SpecInfo{revision})
	if err != nil {
		return nil, fmt.Errorf("diff %s → %s: %w", base.Url, revision.Url, err)
	}
	changes := checker.CheckBackwardCompatibilityUntilLevel(checker.NewConfig(checker.GetAllChecks(), opts...), d, sources, checker.INFO)
	return &Report{Base: base, Revision: revision, Changes: changes, diffEmpty: d.Empty()}, nil
}

// Breaking are the changes oasdiff rates ERR: an existing client breaks.
// WARN changes (may break some clients) are shown in the changelog but do not
// need a major version, as with `oasdiff breaking --fail-on ERR`.
func (r *Report) Breaking() checker.Changes { return r.atLevel(checker.ERR) }

func (r *Report) atLevel(l checker.Level) checker.Changes {
	var out checker.Changes
	for _, c := range r.Changes {
		if c.GetLevel() == l {
			out = append(out, c)
		}
	}
	return out
}

// Changelog renders every change; format is an oasdiff format ("text", "markdown", …).
func (r *Report) Changelog(format string) (string, error) {
	f, err := formatters.Lookup(format, formatters.FormatterOpts{
		Language:        "en",
		BaseVersion:     r.Base.GetVersion(),
		RevisionVersion: r.Revision.GetVersion(),
	})
	if err != nil {
		return "", err
	}
	opts := formatters.NewRenderOpts()
	opts.ColorMode = checker.ColorNever
	opts.DiffEmpty = r.diffEmpty
	b, err := f.RenderChangelog(r.Changes, opts)
	return string(b), err
}

// Gate is the rule for a change of our contract: no breaking change unless
// info.version's major number is raised in the same change.
func (r *Report) Gate() error {
	breaking := r.Breaking()
	if len(breaking) == 0 {
		return nil
	}
	raised, err := MajorRaised(r.Base.Version, r.Revision.Version)
	if err != nil {
		return fmt.Errorf("%d breaking change(s), and %w", len(breaking), err)
	}
	if raised {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d breaking change(s) but info.version's major number was not raised (%s → %s):\n",
		len(breaking), r.Base.GetVersion(), r.Revision.GetVersion())
	for _, c := range breaking {
		fmt.Fprintf(&b, "  - %s %s: %s [%s]\n", c.GetOperation(), c.GetPath(), c.GetUncolorizedText(checker.NewDefaultLocalizer()), c.GetId())
	}
	b.WriteString("Make the change compatible, or raise the major version in openapi.yaml's info.version if clients must change.")
	return fmt.Errorf("%s", b.String())
}

// MajorRaised tells whether revision's major version number is greater than
// base's. Versions are MAJOR.MINOR.PATCH, optionally with a leading "v".
func MajorRaised(base, revision string) (bool, error) {
	b, err := major(base)
	if err != nil {
		return false, err
	}
	r, err := major(revision)
	if err != nil {
		return false, err
	}
	return r > b, nil
}

func major(v string) (int, error) {
	head, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	n, err := strconv.Atoi(head)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("info.version %q is not MAJOR.MINOR.PATCH", v)
	}
	return n, nil
}
