"""`python -m oms.inventory` starts the inventory service."""

from oms.inventory.app import main

main()
