"""`python -m oms.fulfilment` starts the fulfilment service."""

from oms.fulfilment.app import main

main()
