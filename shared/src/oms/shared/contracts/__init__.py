"""Contracts: the event models, the envelope and the topic registry every service shares."""
