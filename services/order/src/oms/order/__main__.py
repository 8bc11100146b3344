"""`python -m oms.order` starts the order service."""

from oms.order.app import main

main()
