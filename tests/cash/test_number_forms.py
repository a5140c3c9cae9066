"""The batch spelling of invoice numbers a statement's matching builds its index with gives,
text for text, what the one-at-a-time rule gives (tools.cash_keys.number_keys and
compact_number): the reference side of a match uses the latter, so any difference would
silently lose matches."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from tools.cash_keys import compact_number, number_forms, number_keys

NUMBERISH = st.text(
    alphabet=st.sampled_from([*"0123456789INVOICEnoNR-/ #.AZaz", "١", "ß", "\x00"]),
    max_size=14,
)


@given(st.lists(NUMBERISH, max_size=20))
@example(["INV-001234", "inv 1234", "", "2026-0042", "INV-A17", "INVNO-0007", "0000"])
@example(["ab\x00c", "INV-1"])  # a number holding the separator the batch joins on
def test_number_forms_equal_the_one_at_a_time_rule(texts: list[str]) -> None:
    keys, compacts = number_forms(texts)
    assert [set(k) for k in keys] == [number_keys(t) for t in texts]
    assert compacts == [compact_number(t) for t in texts]
