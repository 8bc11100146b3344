"""Shipping service: rate-shops carriers, books the best rate, follows tracking to delivery."""
