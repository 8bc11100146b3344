"""Inventory service: reserves stock without overselling, releases it when a saga compensates."""
