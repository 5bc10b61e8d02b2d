package config

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Key describes one configuration key: its dotted YAML path, its environment
// variable and its documentation.
type Key struct {
	Path string
	Env  string
	Doc  string
}

// AllKeys lists every configuration key in declaration order. It is the one
// table the environment overrides and the README check are built from.
func AllKeys() []Key {
	var keys []Key
	walk(reflect.ValueOf(&Config{}).Elem(), "", func(path string, f reflect.StructField, _ reflect.Value) {
		keys = append(keys, Key{Path: path, Env: EnvName(path), Doc: f.Tag.Get("doc")})
	})
	return keys
}

// EnvName returns the environment variable that overrides a key path.
func EnvName(path string) string {
	return "TWOFOLD_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// walk calls fn for every leaf field of v, with its dotted path.
func walk(v reflect.Value, prefix string, fn func(path string, f reflect.StructField, v reflect.Value)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("yaml"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		path := keyPath(prefix, name)
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeFor[Duration]() {
			walk(v.Field(i), path, fn)
			continue
		}
		fn(path, f, v.Field(i))
	}
}

// applyEnv sets every key whose TWOFOLD_* variable is present in environ
// and returns a problem for each variable that does not parse.
func applyEnv(cfg *Config, environ []string) []error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TWOFOLD_") {
			env[k] = v
		}
	}
	var errs []error
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, _ reflect.StructField, field reflect.Value) {
		raw, ok := env[EnvName(path)]
		if !ok {
			return
		}
		if err := setField(field, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s (from %s): %w", path, EnvName(path), err))
		}
	})
	return errs
}

// setField parses raw into one key's field, the same way for the file and
// the environment; its messages name the value but not the key.
func setField(field reflect.Value, raw string) error {
	switch field.Interface().(type) {
	case Duration:
		d, err := ParseDuration(raw)
		if err != nil {
			return err
		}
		field.Set(reflect.ValueOf(d))
		return nil
	case []string:
		var list []string
		for item := range strings.SplitSeq(raw, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		field.Set(reflect.ValueOf(list))
		return nil
	}
	switch field.Kind() {
	case reflect.String:
		field.SetString(raw)
	case reflect.Bool:
		b, ok := parseBool(raw)
		if !ok {
			return fmt.Errorf("must be true or false (got %q)", raw)
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(digits(raw), 10, 64)
		if err != nil {
			return fmt.Errorf("must be a whole number (got %q)", raw)
		}
		field.SetInt(n)
	case reflect.Uint8, reflect.Uint32:
		n, err := strconv.ParseUint(digits(raw), 10, field.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number that fits %d bits (got %q)", field.Type().Bits(), raw)
		}
		field.SetUint(n)
	default:
		return fmt.Errorf("unsupported type %s", field.Type())
	}
	return nil
}

// parseBool accepts what strconv.ParseBool does and, as YAML 1.1 and
// yaml.Decoder did, yes, no, on and off.
func parseBool(raw string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "yes", "on":
		return true, true
	case "no", "off":
		return false, true
	}
	b, err := strconv.ParseBool(strings.TrimSpace(raw))
	return b, err == nil
}

// digits drops the digit separators YAML allows ("65_536") and the spaces
// around a number.
func digits(raw string) string {
	return strings.ReplaceAll(strings.TrimSpace(raw), "_", "")
}

// Duration is a time.Duration that also accepts a number of days ("90d") and
// reads from YAML as a string.
type Duration time.Duration

// ParseDuration parses Go durations ("5m", "1h30m") and whole days ("90d").
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 36500 {
			return 0, fmt.Errorf("must be a duration like 30s, 5m, 12h or 90d (got %q)", s)
		}
		return Duration(time.Duration(n) * 24 * time.Hour), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be a duration like 30s, 5m, 12h or 90d (got %q)", s)
	}
	return Duration(d), nil
}

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	parsed, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// String formats as people write durations: "90d", "12h", "1h30m", "5m",
// "30s", "1m30s", "0s"; whole days as days, and no trailing zero units
// ("1m", not "1m0s"). The result parses back with ParseDuration.
func (d Duration) String() string {
	td := time.Duration(d)
	if td > 0 && td%(24*time.Hour) == 0 {
		return strconv.Itoa(int(td/(24*time.Hour))) + "d"
	}
	s := td.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// TrustedPrefixes returns trusted_proxies parsed; Validate has checked them.
func (c *Config) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}
