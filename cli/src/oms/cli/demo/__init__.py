"""`oms demo`: the suite on real and generated channel orders, with a report."""
