"""The sets of answers the layers test: complete for the fast layer, pairwise-covering for the deep one."""

from __future__ import annotations

import itertools

import pytest

from combinations import (
    CODE_DIMENSIONS,
    FRAMEWORKS,
    PYTHON_VERSIONS,
    all_code_combinations,
    all_pairs,
    covered_pairs,
    pairwise_code_combinations,
    pairwise_rows,
    required_pairs,
)

pytestmark = pytest.mark.fast


def test_fast_layer_renders_every_combination_of_the_code_changing_answers() -> None:
    combos = all_code_combinations()
    expected = len(list(itertools.product(*CODE_DIMENSIONS.values())))
    assert len(combos) == expected
    code_parts = {tuple(v for v in c.values if v.dimension in CODE_DIMENSIONS) for c in combos}
    assert len(code_parts) == expected, "a combination is rendered twice"
    assert len({c.id for c in combos}) == expected, "test ids must be unique"


def test_every_framework_is_rendered_with_every_value() -> None:
    combos = all_code_combinations()
    for framework in FRAMEWORKS:
        for question, values in CODE_DIMENSIONS.items():
            if question == "framework":
                continue
            accepted = {value.label for value in values}
            seen = {
                value.label
                for c in combos
                if c["framework"] == framework
                for value in c.values
                if value.dimension == question
            }
            assert seen == accepted, (framework, question)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("question", ["ci_provider", "python_version", "require_admin_mfa"])
def test_fast_layer_renders_every_value_of_the_rotating_answers(
    question: str, framework: str
) -> None:
    seen = {
        c.answers.get(question)
        for c in all_code_combinations()
        if c["framework"] == framework and (question != "require_admin_mfa" or c["mfa"])
    }
    choices = {
        "ci_provider": {"github", "gitlab", "none"},
        "python_version": set(PYTHON_VERSIONS),
        "require_admin_mfa": {True, False},
    }[question]
    assert seen == choices


def test_require_admin_mfa_is_answered_only_when_mfa_is_on() -> None:
    for combo in [*all_code_combinations(), *pairwise_code_combinations()]:
        assert ("require_admin_mfa" in combo.answers) == combo["mfa"], combo.id


def test_deep_layer_covers_every_pair_of_code_changing_answers() -> None:
    missing = required_pairs() - covered_pairs(pairwise_code_combinations())
    assert not missing, sorted(tuple(sorted(p)) for p in missing)


def test_deep_layer_is_much_smaller_than_the_full_product() -> None:
    sizes = sorted((len(v) for v in CODE_DIMENSIONS.values()), reverse=True)
    deep = pairwise_code_combinations()
    assert len(deep) <= 2 * sizes[0] * sizes[1], [c.id for c in deep]
    assert len(deep) < len(all_code_combinations())


@pytest.mark.parametrize(
    "sizes", [[1], [2, 2], [3, 3, 3], [4, 3, 2, 2, 2], [2, 3, 4, 5], [1, 2, 4, 3, 2, 2]]
)
def test_pairwise_rows_cover_every_pair(sizes: list[int]) -> None:
    rows = pairwise_rows(sizes)
    covered = set()
    for row in rows:
        covered |= {
            ((i, row[i]), (j, row[j])) for i, j in itertools.combinations(range(len(row)), 2)
        }
    assert all_pairs(sizes) <= covered
    assert all(0 <= row[d] < sizes[d] for row in rows for d in range(len(sizes)))


def test_pairwise_set_is_deterministic() -> None:
    assert [c.id for c in pairwise_code_combinations()] == [
        c.id for c in pairwise_code_combinations()
    ]
