package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Every flag of every command has an environment variable, MEMBERSHIPS_ and
// its name upper-cased with - as _ (--db-max-conns: MEMBERSHIPS_DB_MAX_CONNS),
// unless envPrefix gave its command's own flags another prefix. Commands
// declare plain typed pflag flags; bindEnv names the variables and shows
// them in the help, fillFromEnv sets what the command line left unset.
// Precedence: flag, then variable, then default. An empty variable is unset.

const (
	envPrefixDefault = "MEMBERSHIPS_"
	envKey           = "memberships_env"      // the flag's variable
	fromEnvKey       = "memberships_from_env" // set when the variable gave the value
)

// envName is the variable of flag name under prefix.
func envName(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// envPrefix gives the flags declared so far in fs, that have no variable yet,
// variables under prefix instead of MEMBERSHIPS_ (seed's MEMBERSHIPS_SEED_…).
func envPrefix(fs *pflag.FlagSet, prefix string) {
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[envKey]; !ok {
			_ = fs.SetAnnotation(f.Name, envKey, []string{envName(prefix, f.Name)})
		}
	})
}

// bindEnv names the variable of every flag of cmd and its subcommands and
// adds it, and a zero default pflag would hide, to the flag's help.
func bindEnv(cmd *cobra.Command) {
	fs := cmd.Flags()
	envPrefix(fs, envPrefixDefault)
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " (env " + f.Annotations[envKey][0] + ")"
		if zeroDefault(f) {
			if f.Value.Type() == "string" {
				f.Usage += ` (default "")`
			} else {
				f.Usage += " (default " + f.DefValue + ")"
			}
		}
	})
	if cmd.Args != nil { // cobra's own argument errors are usage errors too
		args := cmd.Args
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, c := range cmd.Commands() {
		bindEnv(c)
	}
}

// zeroDefault reports whether pflag leaves f's default out of the help: it
// prints none for a zero value (pflag's defaultIsZeroValue, by type).
func zeroDefault(f *pflag.Flag) bool {
	switch f.Value.Type() {
	case "bool":
		return f.DefValue == "false" || f.DefValue == ""
	case "duration":
		return f.DefValue == "0" || f.DefValue == "0s"
	case "int", "int32", "int64", "uint", "uint64":
		return f.DefValue == "0"
	case "string":
		return f.DefValue == ""
	case "stringSlice":
		return f.DefValue == "[]"
	}
	return f.DefValue == "" || f.DefValue == "0" || f.DefValue == "false"
}

// fillFromEnv sets every flag of fs not given on the command line from its
// variable. A value that does not parse is a usage error naming the variable.
func fillFromEnv(fs *pflag.FlagSet, getenv env) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		name := f.Annotations[envKey]
		if err != nil || f.Changed || len(name) == 0 {
			return
		}
		v := getenv(name[0])
		if v == "" {
			return
		}
		if e := f.Value.Set(v); e != nil {
			var ne *strconv.NumError
			if errors.As(e, &ne) {
				e = ne.Err
			}
			err = usagef("%s=%q: --%s takes a %s: %v", name[0], v, f.Name, f.Value.Type(), e)
			return
		}
		_ = fs.SetAnnotation(f.Name, fromEnvKey, name)
	})
	return err
}

// badValue is a usage error about flag name's value, naming the variable
// when the value came from it.
func badValue(fs *pflag.FlagSet, name, format string, args ...any) error {
	label := "--" + name
	if f := fs.Lookup(name); f != nil && len(f.Annotations[fromEnvKey]) > 0 {
		label += " (from " + f.Annotations[fromEnvKey][0] + ")"
	}
	return usagef("%s: %s", label, fmt.Sprintf(format, args...))
}

// sizeValue is a flag holding a number of bytes written like 256MiB, read
// by parse.
type sizeValue struct {
	text  string
	bytes int64
	parse func(string) (int64, error)
}

func newSize(def string, parse func(string) (int64, error)) *sizeValue {
	s := &sizeValue{parse: parse}
	if err := s.Set(def); err != nil {
		panic(err)
	}
	return s
}

func (s *sizeValue) String() string { return s.text }
func (s *sizeValue) Type() string   { return "size" }
func (s *sizeValue) Set(v string) error {
	n, err := s.parse(v)
	if err != nil {
		return err
	}
	s.text, s.bytes = v, n
	return nil
}
