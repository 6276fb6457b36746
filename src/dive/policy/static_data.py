"""The static part of `data.dive` (spec/abac.md §1.5), generated from `dive.domain` and committed as JSON.

`python -m dive.policy.static_data --write` regenerates `bundle/data.json`; `--check` exits 1 when it is stale.
Registry data (test codes, COI members, tenants, issuers, matrix) is merged in by the loader at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from dive.domain.aal import required_aal
from dive.domain.clearance import CASE_MAP, EXACT, FOLD_MAP, FOLDED, LEVEL_RANKS
from dive.domain.coi import ANY_CONTAINMENT_PAIRS, COI_MEMBERS
from dive.domain.countries import ISO_ALPHA3
from dive.domain.tenants import INDUSTRY_CAPS_BUILTIN, TENANT_DEFAULTS
from dive.types import LEVELS

__all__ = ["DATA_FILE", "build_static_data", "render_static_data"]

DATA_FILE: Final = Path(__file__).resolve().parent / "bundle" / "data.json"


def build_static_data() -> dict[str, object]:
    """The static members of `data.dive`, keyed as they are mounted under `data.dive`."""
    return {
        "levels": dict(LEVEL_RANKS),
        "clearance": {
            "exact": {ladder: dict(terms) for ladder, terms in EXACT.items()},
            "folded": {ladder: dict(keys) for ladder, keys in FOLDED.items()},
            "case_map": dict(CASE_MAP),
            "fold_map": dict(FOLD_MAP),
        },
        "countries": {"valid": dict.fromkeys(sorted(ISO_ALPHA3), True)},
        "coi": {"members": {coi: list(members) for coi, members in COI_MEMBERS.items()}},
        # §3.12 V5 and §3.9: fixed tables, shipped as data so that no table is hard-coded in Rego (§1.5).
        "coherence": {"any_pairs": [list(pair) for pair in ANY_CONTAINMENT_PAIRS]},
        "aal": {"required": {level: required_aal(level) for level in LEVELS}},
        "industry_caps_builtin": dict(INDUSTRY_CAPS_BUILTIN),
        "tenant_defaults": dict(TENANT_DEFAULTS),
    }


def render_static_data() -> str:
    """Canonical, diff-friendly JSON: sorted keys, one member per line, UTF-8 unescaped, final newline."""
    return json.dumps(build_static_data(), sort_keys=True, ensure_ascii=False, indent=1) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dive.policy.static_data", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=f"regenerate {DATA_FILE}")
    mode.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args(argv)
    rendered = render_static_data()
    if args.write:
        DATA_FILE.write_text(rendered, encoding="utf-8")
        return 0
    current = DATA_FILE.read_text(encoding="utf-8") if DATA_FILE.exists() else ""
    if current != rendered:
        print(f"{DATA_FILE} is stale; run `python -m dive.policy.static_data --write`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
