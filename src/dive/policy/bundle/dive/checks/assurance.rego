# Check 3.9 aal_sufficient (D3): the session AAL from acr and the factor types in amr (spec/abac.md §3.9).
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.text

acr := inputs.context("acr")

amr := inputs.context("amr")

acr_levels := {
	"1": 1, "2": 2, "3": 3,
	"aal1": 1, "aal2": 2, "aal3": 3,
	"urn:dive25:aal:1": 1, "urn:dive25:aal:2": 2, "urn:dive25:aal:3": 3,
}

acr_level := 1 if {
	acr == 1
} else := 2 if {
	acr == 2
} else := 3 if {
	acr == 3
} else := level if {
	is_string(acr)
	level := object.get(acr_levels, text.ascii_lower(trim(acr, text.blank)), null)
	level != null
}

amr_factors := {text.ascii_lower(factor) | some factor in amr; is_string(factor)} if {
	is_array(amr)
} else := set()

possession_factors := {"otp", "totp", "sms", "hwk", "webauthn"}

amr_level := 3 if {
	some factor in {"hwk", "webauthn"}
	factor in amr_factors
} else := 2 if {
	count({"pwd"} & amr_factors) + count(possession_factors & amr_factors) >= 2
} else := 1 if {
	is_array(amr)
	count(amr) > 0
}

# The higher of the two levels; AAL1 when neither gives one (an authenticated session is single-factor).
aal := max({acr_level, amr_level}) if {
	acr_level
	amr_level
} else := acr_level if {
	acr_level
} else := amr_level if {
	amr_level
} else := 1

required_aal := 3 if {
	inputs.cls == "TOP_SECRET"
	inputs.setting("aal_top_secret") == 3
} else := level if {
	level := object.get(data.dive.aal.required, inputs.cls, null)
	is_number(level)
}

default aal_sufficient := false

aal_sufficient if aal >= required_aal

step_up_method := {
	2: "a second factor (authenticator app or security key)",
	3: "a hardware security key (WebAuthn)",
}

message["aal_sufficient"] := aal_message if not aal_sufficient

aal_message := concat("", [
	"Access denied: the required authentication assurance cannot be determined because the resource has no ",
	"valid classification.",
]) if {
	not required_aal
} else := concat("", [
	"Access denied: ", inputs.cls, " resources require authentication assurance AAL", format_int(required_aal, 10),
	", but this session is AAL", format_int(aal, 10), "; sign in again with ", object.get(step_up_method, required_aal, "a stronger sign-in"), ".",
])
