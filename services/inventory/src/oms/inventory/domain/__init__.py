"""Inventory's domain: allocation of an order's demand to locations. No I/O."""
