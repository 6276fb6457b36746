# The decision entrypoint (spec/abac.md §1.3, §1.4). Only these five rules form data.dive.authz; the checks
# live in data.dive.checks.
package dive.authz

import rego.v1

import data.dive.checks

decision := checks.decision

default allow := false

allow := checks.allow

reason := checks.reason

obligations := checks.obligations

evaluation_details := checks.evaluation_details
