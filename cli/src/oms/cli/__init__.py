"""The `oms` operator command line and the demo of the whole suite."""
