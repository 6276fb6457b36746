# The decision object of spec/abac.md §1.3: thirteen checks in evaluation order, the failed ones with their
# messages, the reason of the first failure (D4), obligations (§4) and the evaluation details.
package dive.checks

import rego.v1

import data.dive.inputs
import data.dive.normalization
import data.dive.text

check_order := [
	"authenticated", "required_attributes", "clearance_sufficient", "country_releasable", "coi_satisfied",
	"embargo_passed", "ztdf_integrity_valid", "upload_releasability_valid", "aal_sufficient",
	"industry_access_allowed", "industry_clearance_cap_ok", "coi_coherent", "federation_trusted",
]

checks := {
	"authenticated": authenticated,
	"required_attributes": required_attributes,
	"clearance_sufficient": clearance_sufficient,
	"country_releasable": country_releasable,
	"coi_satisfied": coi_satisfied,
	"embargo_passed": embargo_passed,
	"ztdf_integrity_valid": ztdf_integrity_valid,
	"upload_releasability_valid": upload_releasability_valid,
	"aal_sufficient": aal_sufficient,
	"industry_access_allowed": industry_access_allowed,
	"industry_clearance_cap_ok": industry_clearance_cap_ok,
	"coi_coherent": coi_coherent,
	"federation_trusted": federation_trusted,
}

failed := [name | some name in check_order; object.get(checks, name, false) == false]

# Every failing check has a message rule; the fallback only keeps the decision defined if one is missing.
messages := {name: text | some name in failed; text := object.get(message, name, fallback_message(name))}

fallback_message(name) := concat("", ["Access denied: the ", name, " check failed."])

default allow := false

allow if count(failed) == 0

reason := "Access granted: all authorization checks passed." if {
	allow
} else := object.get(messages, failed[0], fallback_message(failed[0]))

encrypted := inputs.resource("encrypted") == true

kas_urls_given := urls if {
	urls := inputs.resource("kasUrls")
	is_array(urls)
} else := [url] if {
	url := inputs.resource("kasUrl")
	is_string(url)
} else := []

# The KAS URLs in the given order, without duplicates (D16).
kas_urls := [url | url := kas_urls_given[index]; is_string(url); not url in array.slice(kas_urls_given, 0, index)]

kas_obligation := object.union(
	{
		"type": "kas",
		"action": "request_key",
		"resourceId": inputs.resource("resourceId"),
		"kasUrls": kas_urls,
		"reason": "The data key of this encrypted resource must be obtained from its Key Access Service.",
		"policyContext": {
			"classification": inputs.cls,
			"releasabilityTo": inputs.rel,
			"COI": inputs.RC,
			"coiOperator": inputs.op,
		},
	},
	endpoint,
)

endpoint := {"kasEndpoint": kas_urls[0]} if {
	count(kas_urls) > 0
} else := {}

obligations := [kas_obligation] if {
	allow
	encrypted
} else := []

default detail_slevel := null

detail_slevel := slevel

default detail_cls := null

detail_cls := inputs.cls

default detail_required_aal := null

detail_required_aal := required_aal

default detail_subject_instance := null

detail_subject_instance := subject_instance

default detail_di := null

detail_di := inputs.di

default trusted_issuer := false

trusted_issuer if subject_instance

boolean_or_null(value) := value if {
	is_boolean(value)
} else := null

array_or_null(value) := value if {
	is_array(value)
} else := null

policy_field(name) := value if {
	value := object.get(data.dive.policy, name, null)
} else := null

evaluation_details := {
	"policy_version": policy_field("version"),
	"policy_revision": policy_field("revision"),
	"checks": checks,
	"failed": failed,
	"messages": messages,
	"subject": {
		"uniqueID": text.string_or_null(inputs.subject("uniqueID")),
		"countryOfAffiliation": text.string_or_null(inputs.country),
		"clearance": text.string_or_null(subject_term),
		"clearance_ladder": normalization.ladder_for(subject_ladder),
		"clearance_level": detail_slevel,
		"organizationType": inputs.org,
		"acpCOI": inputs.SC,
		"issuer": text.string_or_null(issuer),
		"instance": detail_subject_instance,
	},
	"resource": {
		"resourceId": text.string_or_null(inputs.resource("resourceId")),
		"classification": text.string_or_null(inputs.resource("classification")),
		"originalClassification": text.string_or_null(inputs.original_term),
		"originalCountry": text.string_or_null(inputs.original_country),
		"required_level": detail_cls,
		"releasabilityTo": array_or_null(inputs.resource("releasabilityTo")),
		"COI": inputs.RC,
		"coiOperator": inputs.op,
		"caveats": text.string_set(inputs.resource("caveats")),
		"encrypted": boolean_or_null(inputs.resource("encrypted")),
		"releasableToIndustry": boolean_or_null(inputs.resource("releasableToIndustry")),
	},
	"authentication": {
		"acr": acr_detail,
		"amr": amr_detail,
		"aal": aal,
		"required_aal": detail_required_aal,
	},
	"federation": {
		"issuer": text.string_or_null(issuer),
		"subject_instance": detail_subject_instance,
		"deciding_instance": detail_di,
		"trusted_issuer": trusted_issuer,
		"agreement": federation_agreement_detail,
	},
	"coi_coherence_violations": coherence_violations,
}

acr_detail := acr if {
	is_string(acr)
} else := acr if {
	is_number(acr)
} else := null

amr_detail := [factor | some factor in amr; is_string(factor)] if {
	is_array(amr)
} else := null

default federation_agreement_detail := false

federation_agreement_detail if federation_agreement

decision := {
	"allow": allow,
	"reason": reason,
	"obligations": obligations,
	"evaluation_details": evaluation_details,
}
