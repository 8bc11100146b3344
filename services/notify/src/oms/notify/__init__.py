"""Notify service: tells customers (e-mail) and subscribed systems (signed webhooks) what happened."""
