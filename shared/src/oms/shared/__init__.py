"""Code all OMS services share: contracts, messaging core, settings, logging, database."""
