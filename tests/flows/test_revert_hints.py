"""Every custom error of the compiled contracts has a hint: a revert is one sentence with a remedy.

Reads the ABIs of every contract the project compiles (test-only contracts and generated
verifiers aside), so a new error without a hint fails here.
"""

from __future__ import annotations

from zkpot.revert_hints import HINTS


def _production_errors() -> dict[str, str]:
    from ape import project

    errors: dict[str, str] = {}
    for contract_type in project.contracts.values():
        source = contract_type.source_id or ""
        if source.startswith("contracts/test/") or source.startswith("contracts/verifiers/"):
            continue
        for error in contract_type.errors:
            errors.setdefault(error.name, source)
    return errors


def test_every_custom_error_of_the_contracts_has_a_hint() -> None:
    errors = _production_errors()
    assert "UnknownTask" in errors and "HandOffWindowClosed" in errors  # the ABIs were read
    missing = {name: source for name, source in errors.items() if name not in HINTS}
    assert missing == {}


def test_every_hint_names_an_error_the_contracts_have() -> None:
    stale = sorted(set(HINTS) - set(_production_errors()))
    assert stale == []
