# RFC 3339 timestamps as every engine must accept them (spec/abac.md §1.6).
package dive.timestamps

import rego.v1

grammar := `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|z|[+-]\d{2}:\d{2})$`

# regopy's time.parse_rfc3339_ns is undefined for a trailing Z; +00:00 means the same instant.
parse_ns(value) := ns if {
	is_string(value)
	regex.match(grammar, value)
	ns := time.parse_rfc3339_ns(regex.replace(value, "[Zz]$", "+00:00"))
}
