"""Allocation of an order's demand to locations: all or nothing, one location first, then the fewest."""

from __future__ import annotations

from oms.inventory.domain.allocation import Short, Take, demand, plan


def test_demand_is_summed_per_sku_over_all_lines() -> None:
    assert demand([("A", 1), ("B", 2), ("A", 3)]) == {"A": 4, "B": 2}


def test_one_location_that_can_ship_everything_is_preferred() -> None:
    available = {("leeds", "A"): 5, ("leeds", "B"): 1, ("york", "A"): 9, ("york", "B"): 9}

    assert plan({"A": 2, "B": 2}, available).takes == [Take("york", "A", 2), Take("york", "B", 2)]


def test_when_no_single_location_can_the_fewest_locations_are_used() -> None:
    available = {("a", "X"): 1, ("b", "X"): 3, ("b", "Y"): 3, ("c", "Y"): 5}

    result = plan({"X": 4, "Y": 4}, available)
    assert result.short == []
    assert sum(t.quantity for t in result.takes if t.sku == "X") == 4
    assert sum(t.quantity for t in result.takes if t.sku == "Y") == 4
    assert all(take.quantity <= available[(take.location, take.sku)] for take in result.takes)


def test_split_prefers_the_location_covering_most() -> None:
    available = {("a", "X"): 2, ("b", "X"): 8, ("b", "Y"): 2, ("c", "Y"): 10}

    takes = plan({"X": 10, "Y": 10}, available).takes
    assert {take.location for take in takes} == {"a", "b", "c"}
    assert Take("c", "Y", 10) in takes


def test_one_short_line_means_nothing_is_taken_and_the_short_lines_are_named() -> None:
    available = {("leeds", "A"): 5, ("leeds", "B"): 1}

    result = plan({"A": 2, "B": 3, "C": 1}, available)
    assert result.takes == []
    assert result.short == [Short("B", 3, 1), Short("C", 1, 0)]
