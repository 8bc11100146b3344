"""The order's domain: statuses and their one transition table, verification, fraud rules. No I/O."""
