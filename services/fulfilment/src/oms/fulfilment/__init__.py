"""Fulfilment service: turns confirmed orders into pick lists in walking order, records picks and packing."""
