"""Channel adapters: real platform payloads turned into the inbound contract of `oms.channel.orders.v1`."""
