"""Order service: takes orders from every channel, verifies them and runs their life cycle."""
