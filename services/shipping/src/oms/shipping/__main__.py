"""`python -m oms.shipping` starts the shipping service."""

from oms.shipping.app import main

main()
