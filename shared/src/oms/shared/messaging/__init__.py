"""The reliability rules of DESIGN.md §5, written once: outbox and relay, inbox, batch consumer, timers."""
